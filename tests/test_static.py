"""The static files as a browser reads them."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static"


def test_every_stylesheet_closes_each_block_it_opens() -> None:
    # A block left open (a merge that dropped a "}") makes the browser drop every rule after
    # it, silently; comments and strings may hold braces, so they are left out first.
    for sheet in (STATIC / "css").glob("*.css"):
        text = re.sub(r"/\*.*?\*/|\"[^\"]*\"|'[^']*'", "", sheet.read_text(), flags=re.S)
        depth = 0
        for n, line in enumerate(text.splitlines(), start=1):
            depth += line.count("{") - line.count("}")
            assert depth >= 0, f"{sheet.name}: a '}}' closes nothing at line {n}"
        assert depth == 0, f"{sheet.name}: {depth} block(s) left open"
