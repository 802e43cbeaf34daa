"""Reading request input: JSON bodies and query parameters, with clear errors."""

from __future__ import annotations

import json
from collections import Counter

from flask import request

from app.errors import BadRequest, Unprocessable
from app.services.inputs import whole_number


def json_object(required: bool = True) -> dict:
    """The body as a JSON object; 400 when it is not JSON, 422 when not an object."""
    if not request.data:
        if required:
            raise BadRequest("A JSON body is required.")
        return {}
    if not request.is_json:
        raise BadRequest("The body must be JSON (Content-Type: application/json).")
    try:
        data = json.loads(request.get_data(), object_pairs_hook=_refuse_duplicate_keys)
    except (ValueError, RecursionError):  # RecursionError: arrays nested 20,000 deep
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Unprocessable("The body must be a JSON object.")
    return data


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """RFC 8259 §4 leaves duplicate names undefined: which value would win is
    a guess two parsers may make differently, so the request is refused."""
    data = dict(pairs)
    if len(data) != len(pairs):
        repeated = [k for k, n in Counter(k for k, _ in pairs).items() if n > 1]
        raise BadRequest(f"Keys repeated in a JSON object: {', '.join(repeated)}.")
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
    return whole_number(value, name)
