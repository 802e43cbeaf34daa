"""The admin API's OpenAPI 3.1 document (kept beside the routes it describes)."""

from __future__ import annotations

from sdk.auth.scopes import CATALOG


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema: str | None = None, status: str = "200") -> dict:
    body = {"description": description}
    if schema:
        ref = {"$ref": f"#/components/schemas/{schema}"}
        body["content"] = {"application/json": {"schema": ref}}
    return {status: body, "401": _error("missing or invalid bearer token"),
            "403": _error("insufficient_scope"), "404": _error("not found"),
            "422": _error("invalid input")}


def _json_body(schema: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema}"}}}}


NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
TOKEN_ID = {"name": "token_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
PAGE = [{"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": 500}}]


def document() -> dict:
    scope_enum = {"type": "string", "enum": list(CATALOG)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Scopegate admin API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/users": {
                "post": {"summary": "Create a machine user",
                         "requestBody": _json_body("NewUser"),
                         "responses": {**_ok("created", "User", "201"),
                                       "409": _error("name taken")}},
                "get": {"summary": "List machine users", "parameters": PAGE,
                        "responses": _ok("a page of users", "UserPage")},
            },
            "/users/{name}": {
                "parameters": [NAME],
                "get": {"summary": "One machine user", "responses": _ok("the user", "User")},
                "delete": {"summary": "Delete a machine user and revoke its tokens",
                           "responses": _ok("deleted", None, "204")},
            },
            "/users/{name}/credentials": {
                "parameters": [NAME],
                "post": {"summary": "Issue client credentials (secret shown once); the tokens "
                                    "obtained with the previous secret are revoked "
                                    "(`revoked_tokens` says how many)",
                         "responses": _ok("created", "Credentials", "201")},
            },
            "/users/{name}/tokens": {
                "parameters": [NAME],
                "post": {"summary": "Create a scoped token (shown once)",
                         "requestBody": _json_body("NewToken"),
                         "responses": {**_ok("created", "NewTokenResult", "201"),
                                       "400": _error("invalid_scope / lifetime too long")}},
            },
            "/tokens": {
                "get": {"summary": "Token metadata of the organization",
                        "parameters": [
                            {"name": "user", "in": "query", "schema": {"type": "string"}},
                            {"name": "active", "in": "query",
                             "schema": {"type": "string", "enum": ["true", "false"]}},
                            {"name": "kind", "in": "query",
                             "schema": {"type": "string", "enum": ["personal", "scoped"]}},
                            *PAGE],
                        "responses": _ok("a page of tokens", "TokenPage")},
            },
            "/tokens/{token_id}": {
                "parameters": [TOKEN_ID],
                "get": {"summary": "One token's metadata", "responses": _ok("token", "Token")},
                "delete": {"summary": "Revoke a token (idempotent)",
                           "responses": _ok("revoked", None, "204")},
            },
            "/tokens/{token_id}/renew": {
                "parameters": [TOKEN_ID],
                "post": {"summary": "Extend a token, never past issue time + 30 days",
                         "requestBody": _json_body("Renew", required=False),
                         "responses": _ok("renewed", "Token")},
            },
            "/activity": {
                "get": {"summary": "Audit events, newest first (a run of identical refusals "
                                   "is one event: `count`, `last_at`)",
                        "parameters": [
                            {"name": "user", "in": "query", "schema": {"type": "string"},
                             "description": "name or unique ID; repeatable (at most 20); "
                                            "acted or subject"},
                            {"name": "actor", "in": "query", "schema": {"type": "string"},
                             "description": "repeatable (at most 20); acted only"},
                            {"name": "action", "in": "query", "schema": {"type": "string"}},
                            {"name": "since", "in": "query", "schema": {"type": "string"}},
                            {"name": "until", "in": "query", "schema": {"type": "string"}},
                            *PAGE],
                        "responses": _ok("a page of events", "EventPage")},
            },
            "/scopes": {"get": {"summary": "The scope catalog",
                                "responses": _ok("catalog", None)}},
            "/me": {"get": {"summary": "The caller", "responses": _ok("identity", None)}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"}, "error_description": {"type": "string"}}},
                "NewUser": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "maxLength": 100},
                    "scopes": {"type": "array", "items": scope_enum}}},
                "User": {"type": "object", "properties": {
                    "name": {"type": "string"}, "email": {"type": "string"},
                    "user_type": {"type": "string"},
                    "scopes": {"type": "array", "items": scope_enum},
                    "created_by": {"type": "string"}, "created_at": {"type": "string"},
                    "active": {"type": "boolean"}, "has_credentials": {"type": "boolean"}}},
                "UserPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "Credentials": {"type": "object", "properties": {
                    "client_id": {"type": "string"}, "client_secret": {"type": "string"}}},
                "NewToken": {"type": "object", "required": ["scopes"], "properties": {
                    "scopes": {"type": "array", "items": scope_enum, "minItems": 1},
                    "expires_in": {"type": "integer", "minimum": 1, "maximum": 2592000}}},
                "NewTokenResult": {"type": "object", "properties": {
                    k: {"type": "string"} for k in
                    ("token", "token_id", "user_id", "email", "expires_at")} | {
                    "scopes": {"type": "array", "items": scope_enum}}},
                "Renew": {"type": "object", "properties": {
                    "expires_in": {"type": "integer", "minimum": 1}}},
                "Token": {"type": "object", "properties": {
                    k: {"type": ["string", "null"]} for k in
                    ("token_id", "kind", "name", "user_id", "email", "created_by",
                     "created_at", "expires_at", "revoked_at", "last_used_at")} | {
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "active": {"type": "boolean"}}},
                "TokenPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "EventPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object"}},
                    "next_cursor": {"type": ["string", "null"]}}},
            },
        },
    }
