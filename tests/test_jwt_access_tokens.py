"""RFC 9068 JWT access tokens (``SCOPEGATE_ACCESS_TOKEN_FORMAT=jwt``), checked
with PyJWT: a library independent of the joserfc that signs them."""

import hashlib
import json

import jwt
import pytest
from sqlalchemy import select

from app.models import Token, db
from tests.conftest import Api, basic, issue


@pytest.fixture
def jwt_format(app):
    app.config["SCOPEGATE_ACCESS_TOKEN_FORMAT"] = "jwt"


def decode(client, value: str, **options) -> dict:
    """Validate as a stock resource server would: JWKS key by kid, RS256 only."""
    jwks = jwt.PyJWKSet.from_dict(client.get("/oauth/jwks").get_json())
    kid = jwt.get_unverified_header(value)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(value, key, algorithms=["RS256"], audience="http://localhost",
                      issuer="http://localhost", **options)


def test_client_credentials_token_is_an_rfc9068_jwt(client, jwt_format, api, machine_user):
    body = issue(client, machine_user, scope="create_session cli").get_json()
    value = body["access_token"]
    assert not value.startswith("sgt_")
    header = jwt.get_unverified_header(value)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    claims = decode(client, value)
    info = api.introspect(value).get_json()
    assert claims["jti"] == info["token_id"]
    assert claims["sub"] == claims["client_id"] == machine_user.email
    assert claims["scope"] == body["scope"] == "create_session cli"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    for member in ("user_id", "email", "customer", "user_type", "role", "env", "token_id"):
        assert claims[member] == info[member]
    assert claims["renewable"] is False and "active" not in claims


def test_jwt_is_signed_by_the_rs256_key_of_the_jwks(client, jwt_format, machine_user):
    """RS256: the signature resource servers check fastest (bench/RESULTS.md section 12)."""
    value = issue(client, machine_user).get_json()["access_token"]
    kid = jwt.get_unverified_header(value)["kid"]
    published = {k["kid"]: k for k in client.get("/oauth/jwks").get_json()["keys"]}
    assert (published[kid]["kty"], published[kid]["alg"]) == ("RSA", "RS256")


def test_admin_created_scoped_token_is_a_jwt(client, jwt_format, api, scoped_token):
    claims = decode(client, scoped_token["token"])
    assert claims["jti"] == scoped_token["token_id"]
    assert claims["scope"] == "create_session read_user_session"


def test_personal_tokens_stay_opaque(runner, jwt_format, org):
    """Admins' full-access credentials keep the prefix secret scanners know."""
    out = runner.invoke(args=["issue-admin-token", "--email", org.admin_email, "--json"])
    assert json.loads(out.output)["token"].startswith("sgp_")


def test_jwt_is_stored_only_as_its_digest(client, app, jwt_format, scoped_token):
    with app.app_context():
        row = db.session.scalar(select(Token).where(Token.token_id == scoped_token["token_id"]))
        assert row.token_hash == hashlib.sha256(scoped_token["token"].encode()).hexdigest()
        assert row.format == "jwt"
        values = [str(v) for v in row.__dict__.values()]
        assert scoped_token["token"] not in values


def test_jwt_is_revocable_by_value_and_then_inactive(client, jwt_format, api, machine_user):
    value = issue(client, machine_user).get_json()["access_token"]
    client.post("/oauth/revoke", data={"token": value},
                headers=basic(machine_user.client_id, machine_user.client_secret))
    assert api.introspect(value).get_json() == {"active": False}
    decode(client, value)  # the signature stays valid: revocation wins via the feed


def test_jwt_is_revocable_by_id(client, jwt_format, api, scoped_token):
    assert api.delete(f"/tokens/{scoped_token['token_id']}").status_code == 204
    assert api.introspect(scoped_token["token"]).get_json() == {"active": False}


def test_jwt_works_as_a_bearer_token(client, jwt_format, scoped_token):
    me = Api(client, scoped_token["token"]).get("/me")
    assert me.status_code == 200


def test_jwt_cannot_be_renewed(client, jwt_format, api, scoped_token):
    response = api.post(f"/tokens/{scoped_token['token_id']}/renew", {})
    assert response.status_code == 409


def test_tampered_jwt_is_unknown(client, jwt_format, api, scoped_token):
    head, payload, signature = scoped_token["token"].split(".")
    forged = f"{head}.{payload}.{signature[:-2]}AA"
    assert api.introspect(forged).get_json() == {"active": False}


def test_key_rotation_keeps_earlier_jwts_valid(client, runner, jwt_format, api, machine_user):
    before = issue(client, machine_user).get_json()["access_token"]
    runner.invoke(args=["rotate-keys"])
    after = issue(client, machine_user).get_json()["access_token"]
    assert jwt.get_unverified_header(before)["kid"] != jwt.get_unverified_header(after)["kid"]
    assert decode(client, before)["sub"] == decode(client, after)["sub"]


def test_opaque_is_the_default(client, api, scoped_token):
    assert scoped_token["token"].startswith("sgt_")
