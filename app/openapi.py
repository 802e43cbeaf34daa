"""The OpenAPI 3.1 document of every operation the server has, served at
``GET /api/v1/openapi.json``: the admin API, the OAuth endpoints (form
bodies), discovery, JWKS and the health probes.

Each module that registers routes describes them beside the routes, at import
time, with :func:`describe`; this module only assembles the parts and holds
the shapes every part shares (the error body, the challenges, the statuses
every operation can answer). Nothing here imports a route module, so
imports keep running one way.

How to document a new endpoint (``tests/test_openapi.py`` fails until you do):

1. In the module that defines the route, call
   ``describe({"/path/{param}": {"get": {...}}}, schemas={"Name": {...}})``
   with the full path (``/api/v1/...``, ``/oauth/...``) and one OpenAPI
   operation per method: ``summary``, ``security`` when it is not the admin
   API's bearer token, ``requestBody`` (:func:`json_body` / :func:`form_body`),
   and ``responses`` with every status it can answer: :func:`answer` for
   successes, :func:`errors` for the error statuses (401 carries the RFC 6750
   challenge, 429 ``Retry-After``).
2. Name each response's schema; the body is checked against it by
   schemathesis (``response_schema_conformance``) in ``make test``.
3. Add ``links`` from a creating answer to the operations that use what it
   created, so the stateful phase can chain them.

400 (a NUL byte or a form that is not UTF-8 is refused before any route
runs) and, for operations with a body, 413 are added to every operation here,
as JSON errors unless the operation documents them itself: the sign-in
endpoints (``/oauth/authorize``, ``/oauth/logout``) answer a person's browser
with pages (:func:`page`, :func:`page_errors`, :func:`redirection`).
"""

from __future__ import annotations

import re

_PATHS: dict[str, dict] = {}
_SCHEMAS: dict[str, dict] = {}
METHODS = ("get", "put", "post", "delete", "patch")


def describe(paths: dict[str, dict], schemas: dict[str, dict] | None = None) -> None:
    """Add operations (and the schemas they name) to the served document."""
    for path, item in paths.items():
        target = _PATHS.setdefault(path, {})
        twice = (set(target) & set(item)) - {"parameters"}
        if twice:
            raise ValueError(f"{path}: {sorted(twice)} described twice")
        target.update(item)
    for name, schema in (schemas or {}).items():
        if _SCHEMAS.setdefault(name, schema) != schema:
            raise ValueError(f"schema {name} described twice, differently")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def answer(description: str, schema: dict | str | None = None, *,
           links: dict | None = None) -> dict:
    """A success response; ``schema`` is a schema or the name of one (JSON body)."""
    response: dict = {"description": description}
    if schema is not None:
        body = ref(schema) if isinstance(schema, str) else schema
        response["content"] = {"application/json": {"schema": body}}
    if links:
        response["links"] = links
    return response


_ERRORS = {
    400: "malformed request (invalid_request, invalid_scope, ...)",
    401: "missing or invalid credentials",
    403: "insufficient_scope: the token may not do this",
    404: "not found, or outside the caller's organization",
    409: "conflict with the object's state",
    413: "body above the size limit",
    422: "well-formed input with a wrong type, shape or value",
    429: "rate limited; retry after the Retry-After seconds",
}

_CHALLENGE = {"description": "RFC 6750 §3 bearer challenge (at /oauth/*, RFC 6749 §5.2: "
                             "the scheme the client used: Basic, or Bearer where an "
                             "admin's token is taken)",
              "schema": {"type": "string"}}


def errors(*statuses: int) -> dict:
    """The JSON error responses ``{"error", "error_description"}`` for ``statuses``."""
    out = {}
    for status in statuses:
        response = {"description": _ERRORS[status],
                    "content": {"application/json": {"schema": ref("Error")}}}
        if status in (401, 403):
            response["headers"] = {"WWW-Authenticate": _CHALLENGE}
        if status == 429:
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        out[str(status)] = response
    return out


def page(description: str) -> dict:
    """An HTML page for a person's browser (the sign-in endpoints)."""
    return {"description": description,
            "content": {"text/html": {"schema": {"type": "string"}}}}


def page_errors(*statuses: int) -> dict:
    """The error statuses of an endpoint that answers a browser: HTML pages."""
    return {str(status): page(_ERRORS[status]) for status in statuses}


def redirection(description: str) -> dict:
    """A redirect; where to is in ``Location``."""
    return {"description": description,
            "headers": {"Location": {"schema": {"type": "string"}, "required": True}}}


def json_body(schema: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}


def form_body(schema: str) -> dict:
    """An OAuth request: parameters in an ``application/x-www-form-urlencoded`` body."""
    return {"required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": ref(schema)}}}


def path_parameter(name: str, schema: dict | None = None, description: str = "") -> dict:
    parameter = {"name": name, "in": "path", "required": True,
                 "schema": schema or {"type": "string"}}
    if description:
        parameter["description"] = description
    return parameter


def query_parameter(name: str, schema: dict | None = None, description: str = "") -> dict:
    parameter = {"name": name, "in": "query", "schema": schema or {"type": "string"}}
    if description:
        parameter["description"] = description
    return parameter


def _with_common_errors(operation: dict, limited: str | None = None) -> dict:
    common = {400} | ({413} if "requestBody" in operation else set())
    responses = {**errors(*sorted(common)), **operation["responses"]}
    if limited is not None and "429" not in responses:
        responses.update(page_errors(429) if limited == "html" else errors(429))
    return {**operation, "responses": dict(sorted(responses.items()))}


def _rate_limited() -> dict[str, str]:
    """OpenAPI path -> "json" or "html" for every route ``app.ratelimits`` limits
    (it alone decides which), so each of them documents its 429."""
    from flask import current_app

    from app import ratelimits

    limited: dict[str, str] = {}
    for rule in current_app.url_map.iter_rules():
        if ratelimits.rules_for(rule.endpoint):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            html = rule.endpoint in ratelimits.BROWSER_ENDPOINTS
            limited[path] = "html" if html else "json"
    return limited


def document() -> dict:
    """The whole document, as served."""
    limited = _rate_limited()
    paths = {path: {key: _with_common_errors(value, limited.get(path)) if key in METHODS
                    else value for key, value in item.items()}
             for path, item in sorted(_PATHS.items())}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Scopegate", "version": "1",
                 "description": "Admin API (bearer token), OAuth 2.0 endpoints, "
                                "discovery, JWKS and health probes."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an admin's personal token (sgp_...) or a "
                                          "machine user's scoped token (sgt_...)"},
                "basic": {"type": "http", "scheme": "basic",
                          "description": "client credentials (client_secret_basic)"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"}}},
                **dict(sorted(_SCHEMAS.items())),
            },
        },
    }
