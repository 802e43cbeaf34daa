"""Local JWT validation refuses everything Scopegate does not issue (the JWKS
and discovery answers mocked; tokens forged with joserfc)."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests_mock
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from sdk.auth.exceptions import AuthenticationError
from sdk.resource import TokenVerifier

URL = "http://scopegate.test"
KEY = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": URL, "aud": URL, "sub": "f1@x", "client_id": "f1@x", "exp": now + 60,
            "iat": now, "jti": "a" * 32, "token_id": "a" * 32, "scope": "cli"}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def sign(payload: dict, key=KEY, **header) -> str:
    head = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **header}
    return jwt.encode(head, payload, key, algorithms=[head["alg"]])


@pytest.fixture
def server():
    with requests_mock.Mocker() as mock:
        mock.get(f"{URL}/oauth/revocations", json={"items": [], "next_cursor": "1.0"})
        mock.get(f"{URL}/.well-known/oauth-authorization-server", json={"issuer": URL})
        mock.get(f"{URL}/oauth/jwks", json={"keys": [KEY.as_dict(private=False)]})
        yield mock


def verifier() -> TokenVerifier:
    return TokenVerifier(URL, "rs-1", "sgs_x")


def test_valid_token_gives_its_claims(server):
    assert verifier().verify(sign(claims()))["sub"] == "f1@x"


def test_alg_none_is_refused(server):
    head = base64.urlsafe_b64encode(json.dumps(
        {"alg": "none", "typ": "at+jwt", "kid": KEY.kid}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError):
        verifier().verify(f"{head}.{body}.AAAA")


def test_hmac_signed_with_anything_is_refused(server):
    secret = OctKey.import_key("public-looking-secret-value-32bytes!")
    token = jwt.encode({"alg": "HS256", "typ": "at+jwt", "kid": KEY.kid}, claims(), secret)
    with pytest.raises(AuthenticationError):
        verifier().verify(token)


def test_id_token_type_is_refused(server):
    with pytest.raises(AuthenticationError):
        verifier().verify(sign(claims(), typ="JWT"))


@pytest.mark.parametrize("change", [{"iss": "http://evil"}, {"aud": "http://other"},
                                    {"exp": 1000}, {"jti": None}, {"scope": None}])
def test_wrong_or_missing_claims_are_refused(server, change):
    with pytest.raises(AuthenticationError):
        verifier().verify(sign(claims(**change)))


def test_tampered_claims_are_refused(server):
    head, _, signature = sign(claims()).split(".")
    body = base64.urlsafe_b64encode(json.dumps(
        claims(scope="cli read_all_session")).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError):
        verifier().verify(f"{head}.{body}.{signature}")


def test_key_not_in_the_jwks_is_refused(server):
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    with pytest.raises(AuthenticationError):
        verifier().verify(sign(claims(), key=stranger))


def test_unknown_kids_refetch_the_jwks_at_most_once_a_second(server):
    v = verifier()
    v.verify(sign(claims()))
    for n in range(5):
        stranger = ECKey.generate_key("P-256", auto_kid=True)
        with pytest.raises(AuthenticationError):
            v.verify(sign(claims(jti=f"{n:032x}"), key=stranger))
    assert sum(1 for r in server.request_history if r.path == "/oauth/jwks") == 1
