"""Discovery metadata, JWKS and key rotation, health probes."""

import json

import pytest
from authlib.oauth2 import rfc9207
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from app.services import callers, keys
from sdk.auth.scopes import CATALOG


def authorization_server(app):
    return app.extensions["scopegate.authorization"]


def test_both_discovery_documents_agree(client):
    oidc = client.get("/.well-known/openid-configuration").get_json()
    oauth = client.get("/.well-known/oauth-authorization-server").get_json()
    assert oidc == oauth
    assert oidc["issuer"] == "http://localhost"
    assert oidc["token_endpoint"] == "http://localhost/oauth/token"
    assert oidc["introspection_endpoint"].endswith("/oauth/introspect")
    assert oidc["revocation_endpoint"].endswith("/oauth/revoke")
    assert oidc["jwks_uri"].endswith("/oauth/jwks")


def test_discovery_advertises_the_oidc_scopes_the_catalog_and_no_legacy_grants(client):
    meta = client.get("/.well-known/oauth-authorization-server").get_json()
    assert meta["scopes_supported"] == ["openid", "profile", "email", "offline_access",
                                        *CATALOG]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token",
                                             "client_credentials"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "password" not in meta["grant_types_supported"]
    assert "implicit" not in meta["grant_types_supported"]


def test_discovery_is_a_valid_openid_provider_document(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    OpenIDProviderMetadata(meta).validate(metadata_classes=[rfc9207.AuthorizationServerMetadata])
    AuthorizationServerMetadata(meta).validate()
    assert meta["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert meta["userinfo_endpoint"] == "http://localhost/oauth/userinfo"
    assert meta["end_session_endpoint"] == "http://localhost/oauth/logout"
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"sub", "auth_time", "nonce", "at_hash", "email", "name", "org"} <= set(
        meta["claims_supported"])


def test_jwks_publishes_public_keys_only(client):
    jwks = client.get("/oauth/jwks").get_json()
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["kty"] == "EC" and key["alg"] == "ES256" and key["kid"] and key["use"] == "sig"
    assert "d" not in key
    KeySet.import_key_set(jwks)


def test_rotate_keys_keeps_previous_key_published(app, client, runner):
    before = client.get("/oauth/jwks").get_json()["keys"][0]["kid"]
    with app.app_context():
        signed = jwt.encode({"alg": "ES256", "kid": before}, {"sub": "x"}, keys.signing_key())
    out = json.loads(runner.invoke(args=["rotate-keys", "--json"]).output)
    kids = [k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]]
    assert kids == [out["kid"], before]
    # what the old key signed still verifies against the published set
    jwt.decode(signed, KeySet.import_key_set(client.get("/oauth/jwks").get_json()))
    runner.invoke(args=["rotate-keys"])
    kids_after = [k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]]
    assert before not in kids_after and len(kids_after) == 2


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_every_advertised_endpoint_is_served_and_documented(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]
    urls = {k: v for k, v in meta.items() if k.endswith(("_endpoint", "_uri"))
            or k == "service_documentation"}
    assert {"token_endpoint", "introspection_endpoint", "revocation_endpoint", "jwks_uri",
            "service_documentation"} <= set(urls)
    for name, url in urls.items():
        assert url.startswith(meta["issuer"] + "/"), name
        assert url.removeprefix(meta["issuer"]) in documented, name


def test_discovery_advertises_the_client_authentication_that_is_served(app, client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    # Machine users: HTTP Basic; apps: HTTP Basic, the form, or (public apps) nothing.
    assert meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "client_secret_post", "none"]
    served = {method for grant, _ in authorization_server(app)._token_grants
              for method in grant.TOKEN_ENDPOINT_AUTH_METHODS}
    assert served == set(meta["token_endpoint_auth_methods_supported"])
    assert {grant.GRANT_TYPE for grant, _ in authorization_server(app)._token_grants} == set(
        meta["grant_types_supported"])
    for endpoint in ("introspection", "revocation"):
        assert meta[f"{endpoint}_endpoint_auth_methods_supported"] == [
            "client_secret_basic", "bearer"]
    assert meta["subject_types_supported"] == ["public"]


def test_discovery_advertises_the_id_token_algorithm_and_the_jwks_publishes_its_key(app, client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["id_token_signing_alg_values_supported"] == [keys.ID_TOKEN_ALG] == ["RS256"]
    with app.app_context():
        kid = keys.signing_key(keys.ID_TOKEN_ALG).kid  # what signs the next ID token
    published = {key["kid"]: key["alg"] for key in client.get("/oauth/jwks").get_json()["keys"]}
    assert published[kid] == "RS256"


def test_an_issuer_with_a_trailing_slash_gives_clean_endpoint_urls(app, client):
    app.config["SCOPEGATE_ISSUER"] = "https://auth.example.test/"
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == "https://auth.example.test"
    assert meta["token_endpoint"] == "https://auth.example.test/oauth/token"


def test_an_issuer_with_a_path_keeps_all_of_it(app, client):
    app.config["SCOPEGATE_ISSUER"] = "https://sso.example.test/realms/BOX/"
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == "https://sso.example.test/realms/BOX"
    assert meta["jwks_uri"] == "https://sso.example.test/realms/BOX/oauth/jwks"


def test_discovery_advertises_no_feature_that_is_not_served(client):
    """Query-mode responses and the three prompts only; no request objects
    (the authorization endpoint refuses them) and no ``claims`` parameter."""
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["response_modes_supported"] == ["query"]
    assert meta["prompt_values_supported"] == ["none", "login", "consent"]
    assert meta["request_parameter_supported"] is False
    assert meta["request_uri_parameter_supported"] is False
    assert meta["claims_parameter_supported"] is False


def signed(alg: str, **claims) -> str:
    key = keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid},
                      {"iss": "http://localhost", "sub": "x", "exp": 1, **claims}, key)


def test_own_tokens_verify_expired_or_not_with_either_algorithm(app):
    with app.app_context():
        for alg in keys.ALGS:
            assert keys.verify_own(signed(alg))["sub"] == "x"
        app.config["SCOPEGATE_ISSUER"] = "http://localhost/"  # the same issuer
        assert keys.verify_own(signed(keys.ID_TOKEN_ALG))["sub"] == "x"


def test_a_token_for_another_issuer_or_from_another_key_is_not_our_own(app):
    from joserfc.jwk import OctKey, RSAKey

    stranger = RSAKey.generate_key(2048, auto_kid=True)
    with app.app_context():
        assert keys.verify_own(signed(keys.ID_TOKEN_ALG, iss="https://evil.test")) is None
        assert keys.verify_own(signed(keys.ID_TOKEN_ALG, iss=None)) is None
        assert keys.verify_own(jwt.encode({"alg": "RS256", "kid": stranger.kid},
                                          {"iss": "http://localhost"}, stranger)) is None
        assert keys.verify_own(jwt.encode({"alg": "HS256"}, {"iss": "http://localhost"},
                                          OctKey.import_key("x" * 32),
                                          algorithms=["HS256"])) is None


def test_a_token_signed_by_a_dropped_key_is_not_our_own(app):
    with app.app_context():
        old = signed(keys.ID_TOKEN_ALG)
        keys.rotate(callers.operator())
        assert keys.verify_own(old) is not None  # the previous key is still published
        keys.rotate(callers.operator())
        assert keys.verify_own(old) is None


@pytest.mark.parametrize("value", [None, 42, "", "e30.e30.", "a" * 8193])
def test_anything_else_is_not_our_own_token(app, value):
    with app.app_context():
        assert keys.verify_own(value) is None


def padded_to(length: int) -> str:
    """An own ID token exactly ``length`` characters long (claims pad it)."""
    bare = len(signed(keys.ID_TOKEN_ALG, pad=""))
    estimate = (length - bare) * 3 // 4
    for pad in range(estimate - 4, estimate + 4):
        for sub in ("x", "xy", "xyz"):
            token = signed(keys.ID_TOKEN_ALG, sub=sub, pad="p" * pad)
            if len(token) == length:
                return token
    raise AssertionError(f"no padding gives {length} characters")


def test_own_tokens_verify_up_to_8192_characters(app):
    with app.app_context():
        assert keys.verify_own(padded_to(8192)) is not None
        assert keys.verify_own(padded_to(8193)) is None
