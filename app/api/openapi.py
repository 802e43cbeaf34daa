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
EMAIL = {"name": "email", "in": "path", "required": True,
         "schema": {"type": "string"}, "description": "email or unique ID of the person"}
TOKEN_ID = {"name": "token_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
CLIENT_ID = {"name": "client_id", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^app-"}}
APP_SCHEMA = {"type": "object", "properties": {
    "client_id": {"type": "string"}, "name": {"type": "string"},
    "redirect_uris": {"type": "array", "items": {"type": "string"}},
    "public": {"type": "boolean"}, "created_by": {"type": "string"},
    "created_at": {"type": "string"}, "secret_rotated_at": {"type": ["string", "null"]}}}
#: ``*_shared``: the name has belonged to more than one user (a deleted user's
#: name can be reused); the unique ID beside it tells them apart.
SHARED = {"type": "boolean", "description": "the name has belonged to several users"}
NAMED = {"type": ["string", "null"], "description": "readable name of the unique ID beside it"}
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
                "post": {"summary": "Issue client credentials (secret shown once)",
                         "responses": _ok("created", "Credentials", "201")},
            },
            "/users/{name}/tokens": {
                "parameters": [NAME],
                "post": {"summary": "Create a scoped token (shown once)",
                         "requestBody": _json_body("NewToken"),
                         "responses": {**_ok("created", "NewTokenResult", "201"),
                                       "400": _error("invalid_scope / lifetime too long")}},
            },
            "/people": {
                "post": {"summary": "Invite a person (one-time link, shown once, valid 24 h)",
                         "requestBody": _json_body("NewPerson"),
                         "responses": {**_ok("invited", "Invitation", "201"),
                                       "409": _error("email taken")}},
                "get": {"summary": "List the organization's people", "parameters": PAGE,
                        "responses": _ok("a page of people", "PersonPage")},
            },
            "/people/{email}": {
                "parameters": [EMAIL],
                "get": {"summary": "One person", "responses": _ok("the person", "Person")},
                "patch": {"summary": "Change role and/or disable or enable; disabling ends "
                                     "their sessions and tokens at once",
                          "requestBody": _json_body("PersonChange"),
                          "responses": {**_ok("changed", "Person"),
                                        "409": _error("the last admin")}},
                "delete": {"summary": "Delete a person; their sessions and tokens end at once",
                           "responses": {**_ok("deleted", None, "204"),
                                         "409": _error("the last admin")}},
            },
            "/people/{email}/reset-link": {
                "parameters": [EMAIL],
                "post": {"summary": "A new one-time link to choose a password (shown once)",
                         "responses": {**_ok("issued", "ResetLink", "201"),
                                       "409": _error("disabled")}},
            },
            "/people/{email}/tokens": {
                "parameters": [EMAIL],
                "post": {"summary": "Issue a personal token to a member (or yourself); "
                                    "shown once",
                         "requestBody": _json_body("NewPersonalToken", required=False),
                         "responses": {**_ok("created", "Token", "201"),
                                       "409": _error("disabled")}},
            },
            "/tokens": {
                "get": {"summary": "Token metadata of the organization",
                        "parameters": [
                            {"name": "user", "in": "query", "schema": {"type": "string"}},
                            {"name": "active", "in": "query",
                             "schema": {"type": "string", "enum": ["true", "false"]}},
                            {"name": "kind", "in": "query",
                             "schema": {"type": "string",
                                        "enum": ["personal", "scoped", "app", "refresh"]}},
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
                "get": {"summary": "Audit events, newest first",
                        "parameters": [
                            {"name": "user", "in": "query", "schema": {"type": "string"},
                             "description": "name or unique ID; repeatable; acted or subject"},
                            {"name": "actor", "in": "query", "schema": {"type": "string"}},
                            {"name": "action", "in": "query", "schema": {"type": "string"}},
                            {"name": "since", "in": "query", "schema": {"type": "string"}},
                            {"name": "until", "in": "query", "schema": {"type": "string"}},
                            *PAGE],
                        "responses": _ok("a page of events", "EventPage")},
            },
            "/apps": {
                "post": {"summary": "Register an app people sign in to (secret shown once)",
                         "requestBody": _json_body("NewApp"),
                         "responses": _ok("registered", "NewAppResult", "201")},
                "get": {"summary": "List apps", "parameters": PAGE,
                        "responses": _ok("a page of apps", "AppPage")},
            },
            "/apps/{client_id}": {
                "parameters": [CLIENT_ID],
                "get": {"summary": "One app", "responses": _ok("the app", "App")},
                "delete": {"summary": "Delete an app and revoke every token issued to it",
                           "responses": _ok("deleted", None, "204")},
            },
            "/apps/{client_id}/secret": {
                "parameters": [CLIENT_ID],
                "post": {"summary": "Rotate a confidential app's secret (shown once)",
                         "responses": _ok("rotated", "NewAppResult", "201")},
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
                    "name": {"type": "string"}, "name_shared": SHARED,
                    "email": {"type": "string"}, "user_type": {"type": "string"},
                    "scopes": {"type": "array", "items": scope_enum},
                    "created_by": {"type": "string"}, "created_by_name": NAMED,
                    "created_at": {"type": "string"},
                    "active": {"type": "boolean"}, "has_credentials": {"type": "boolean"}}},
                "UserPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "NewPerson": {"type": "object", "required": ["email", "role"], "properties": {
                    "email": {"type": "string", "format": "email"},
                    "role": {"type": "string", "enum": ["admin", "member"]}}},
                "Person": {"type": "object", "properties": {
                    k: {"type": ["string", "null"]} for k in
                    ("email", "uid", "user_type", "role", "status", "created_by",
                     "created_at", "joined_at", "disabled_at")} | {
                    "disabled": {"type": "boolean"}}},
                "Invitation": {"allOf": [{"$ref": "#/components/schemas/Person"}, {
                    "type": "object", "properties": {
                        "invite_url": {"type": "string"},
                        "invite_expires_at": {"type": "string"}}}]},
                "PersonPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "PersonChange": {"type": "object", "minProperties": 1, "properties": {
                    "role": {"type": "string", "enum": ["admin", "member"]},
                    "disabled": {"type": "boolean"}}},
                "ResetLink": {"type": "object", "properties": {
                    k: {"type": "string"} for k in
                    ("email", "purpose", "reset_url", "expires_at")}},
                "NewPersonalToken": {"type": "object", "properties": {
                    "name": {"type": "string", "maxLength": 100},
                    "expires_in": {"type": "integer", "minimum": 1}}},
                "Credentials": {"type": "object", "properties": {
                    "client_id": {"type": "string"}, "client_secret": {"type": "string"},
                    "token_endpoint": {"type": "string", "format": "uri"}}},
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
                    "user_name_shared": SHARED, "created_by_name": NAMED,
                    "active": {"type": "boolean"}}},
                "TokenPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "NewApp": {"type": "object", "required": ["name", "redirect_uris"],
                           "properties": {
                               "name": {"type": "string", "maxLength": 100},
                               "redirect_uris": {"type": "array", "minItems": 1, "maxItems": 10,
                                                 "items": {"type": "string", "format": "uri"}},
                               "public": {"type": "boolean", "default": False}}},
                "App": APP_SCHEMA,
                "NewAppResult": {"allOf": [
                    {"$ref": "#/components/schemas/App"},
                    {"type": "object", "properties": {"client_secret": {"type": "string"}}}]},
                "AppPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/App"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "Event": {"type": "object", "properties": {
                    k: {"type": ["string", "null"]} for k in
                    ("at", "actor", "actor_name", "subject", "subject_name", "action",
                     "target", "outcome", "ip", "request_id", "detail")} | {
                    "id": {"type": "integer"},
                    "actor_name_shared": SHARED, "subject_name_shared": SHARED}},
                "EventPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                    "next_cursor": {"type": ["string", "null"]}}},
            },
        },
    }
