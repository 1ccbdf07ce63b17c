"""OpenAPI post-processing: the answers every operation can give are
documented on every operation that can give them, so clients (and the schema
fuzzing in `make fuzz`) meet no status the schema does not list.

- 400 on every operation that reads a body or query parameters (refused
  input: field errors, or the project's {code, detail, fields});
- 404 on every operation with an id in its path (missing, or not yours);
- 415 on every operation with a body (a content type it does not parse);
- 503 with Retry-After everywhere (PostgreSQL or Redis cannot be reached; retry).

Operations that describe a status themselves keep their own description.
"""

from __future__ import annotations

ERROR = "ApiError"
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error. Refused input lists field errors by field name (each a list of "
        "messages), or is the project's shape {code, detail, fields}; other errors have "
        "`detail` and usually a stable `code`."
    ),
    "properties": {
        "code": {"type": "string"},
        "detail": {"type": "string"},
    },
    "additionalProperties": True,
}
METHODS = ("get", "post", "put", "patch", "delete")


def _error(description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}},
        **extra,
    }


def add_common_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR] = ERROR_SCHEMA
    for item in result.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            places = {p.get("in") for p in operation.get("parameters", [])}
            responses = operation.setdefault("responses", {})
            has_body = "requestBody" in operation
            if has_body or "query" in places:
                responses.setdefault("400", _error("Refused input."))
            if "path" in places:
                responses.setdefault("404", _error("Not found, or not yours to see."))
            if has_body:
                responses.setdefault("415", _error("A content type this operation does not read."))
            responses.setdefault(
                "503",
                _error(
                    "PostgreSQL or Redis cannot be reached; retry after Retry-After seconds.",
                    headers={"Retry-After": {"schema": {"type": "integer"}}},
                ),
            )
    return result
