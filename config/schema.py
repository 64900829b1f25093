"""The API schema (/api/v1/schema/): drf-spectacular's, with the errors each operation answers.

Its own module, not `config.api`: drf-spectacular imports DRF's generic views, which read the
pagination class from `config.api` while they load.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from config.api import ErrorOut

# The errors every operation may answer, by status code: what the schema says about each.
ERROR_DESCRIPTIONS = {
    400: "Bad input, nothing changed: the problems by field (or a list of them)",
    401: "No credentials, or a wrong token",
    403: "Signed in, but this role may not do it",
    404: "No such record",
    413: "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE",
    415: "The body is not JSON (nor a form)",
    429: "Too many requests: wait as Retry-After says",
}
# DRF's ValidationError: {field: [messages]} (nested for nested fields), {"detail": ...}, or a
# list of messages.
VALIDATION_ERROR_SCHEMA = {
    "oneOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {}},
    ]
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error answers of each operation (ERROR_DESCRIPTIONS),
    which it leaves out: 400 where there is input (a body, query parameters, or a POST or a
    DELETE that a rule may refuse), 404 where the path names a record, 413 and 415 where there is
    a body, and 401, 403 and 429 everywhere. An operation that documents one of them itself
    (the ingests' 400) keeps its own."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        where = {parameter["in"] for parameter in operation.get("parameters", [])}
        codes = {401, 403, 429}
        if "query" in where or "requestBody" in operation or self.method != "GET":
            codes.add(400)
        if "path" in where:
            codes.add(404)
        if "requestBody" in operation:
            codes |= {413, 415}
        responses = operation.setdefault("responses", {})
        for code in sorted(codes):
            schema = self._error_component(code)
            responses.setdefault(
                str(code),
                {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": schema.ref}},
                },
            )
        return operation

    def _error_component(self, code: int) -> ResolvedComponent:
        if code != 400:
            return self.resolve_serializer(ErrorOut, "response")
        name = "ValidationErrors"
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=VALIDATION_ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        return component
