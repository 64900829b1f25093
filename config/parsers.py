"""The API's body parsers (settings' DEFAULT_PARSER_CLASSES): a module of its own, since DRF
imports it while it loads its settings."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """JSON, refused with a 400 (not a 500) when nested too deep for the parser to follow."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deep.") from None
