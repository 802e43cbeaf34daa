"""Reading request input: JSON bodies and query parameters, with clear errors."""

from __future__ import annotations

from flask import request

from app.errors import BadRequest, Unprocessable


def json_object(required: bool = True) -> dict:
    """The body as a JSON object; 400 when it is not JSON, 422 when not an object."""
    if not request.data:
        if required:
            raise BadRequest("A JSON body is required.")
        return {}
    if not request.is_json:
        raise BadRequest("The body must be JSON (Content-Type: application/json).")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(data, dict):
        raise Unprocessable("The body must be a JSON object.")
    return data


def only(data: dict, allowed: set[str]) -> dict:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Unprocessable(f"Unknown field(s): {', '.join(unknown)}.")
    return data


def query_bool(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value in ("true", "false"):
        return value == "true"
    raise Unprocessable(f"`{name}` must be `true` or `false`.")


def query_int(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise Unprocessable(f"`{name}` must be a positive integer.")
    return int(value)
