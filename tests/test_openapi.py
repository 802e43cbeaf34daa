"""The served OpenAPI document describes every operation the server has.

The dashboard's HTML pages (blueprint ``web``) are left out on purpose: they
answer HTML to a browser session with CSRF tokens, not JSON to a token, so an
OpenAPI client could not call them; tests/web covers them. Flask's static
files are left out for the same reason. The two sign-in endpoints apps send
people to are the exception: discovery advertises them, so they are
documented, honestly, as pages and redirects.
"""

import re

import schemathesis

UNDOCUMENTED_BLUEPRINTS = {"web"}
UNDOCUMENTED_ENDPOINTS = {"static"}
#: Protocol endpoints in the ``web`` blueprint: documented, and answering HTML.
SIGN_IN_ENDPOINTS = {"web.authorize": "/oauth/authorize", "web.oidc_logout": "/oauth/logout"}


def served_operations(app) -> set[tuple[str, str]]:
    """(path in OpenAPI syntax, method) of every route a client can call."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS or (
                rule.endpoint.split(".")[0] in UNDOCUMENTED_BLUEPRINTS
                and rule.endpoint not in SIGN_IN_ENDPOINTS):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def documented_operations(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items()
            for method in item if method != "parameters"}


def test_every_route_is_documented(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    missing = served_operations(app) - documented_operations(doc)
    assert not missing, f"routes without an OpenAPI description (see app/openapi.py): {missing}"


def test_every_documented_operation_exists(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert documented_operations(doc) <= served_operations(app)


def test_document_loads_as_openapi_31(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(doc)
    assert len(list(schema.get_all_operations())) == len(documented_operations(doc))


def test_every_operation_documents_its_errors_with_the_error_schema(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or path in SIGN_IN_ENDPOINTS.values():
                continue
            assert operation["operationId"] and operation["summary"]
            assert "400" in operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}


def test_the_sign_in_endpoints_document_their_pages_and_redirects_as_such(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in SIGN_IN_ENDPOINTS.values():
        for method in ("get", "post"):
            operation = paths[path][method]
            assert operation["operationId"] and operation["summary"]
            assert operation["security"] == []
            for status, response in operation["responses"].items():
                if status.startswith(("2", "4")):
                    assert set(response["content"]) == {"text/html"}, (path, method, status)
                else:
                    assert status in ("302", "303") and "Location" in response["headers"]
            assert "400" in operation["responses"], (path, method)


def test_bearer_protected_operations_document_401_with_a_challenge(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or operation.get("security") == []:
                continue
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], path


def test_oauth_endpoints_take_form_bodies(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/oauth/token", "/oauth/introspect", "/oauth/revoke"):
        content = doc["paths"][path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/x-www-form-urlencoded"}


def test_links_name_existing_operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    ids = {op["operationId"] for item in doc["paths"].values()
           for m, op in item.items() if m != "parameters"}
    links = [link for item in doc["paths"].values() for m, op in item.items()
             if m != "parameters" for r in op["responses"].values()
             for link in r.get("links", {}).values()]
    assert links and {link["operationId"] for link in links} <= ids


def test_an_undocumented_route_is_noticed(app):
    app.add_url_rule("/api/v1/undocumented", "api.undocumented", lambda: "")
    assert ("/api/v1/undocumented", "get") in served_operations(app)


def test_every_rate_limited_operation_documents_its_429(app, client):
    """app.ratelimits decides what is limited; the document follows it."""
    from app import ratelimits

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    limited = {rule.rule for rule in app.url_map.iter_rules()
               if ratelimits.rules_for(rule.endpoint)}
    for path in ("/api/v1/users", "/oauth/token", "/oauth/introspect", "/oauth/authorize"):
        assert path in limited
        for method in ("get", "post", "delete", "patch"):
            if method in paths[path]:
                assert "429" in paths[path][method]["responses"], (method, path)
    assert "429" not in paths["/healthz"]["get"]["responses"]
