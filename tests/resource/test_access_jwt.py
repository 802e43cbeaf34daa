"""Local JWT validation refuses everything Scopegate does not issue (the JWKS
and discovery answers mocked; tokens forged with joserfc)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
import requests_mock
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from sdk.auth.exceptions import AuthenticationError
from sdk.resource import TokenVerifier
from sdk.resource.access_jwt import JwtValidator

URL = "http://scopegate.test"
#: What Scopegate signs with now, and the ES256 key of tokens issued before the switch.
KEY = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
EC_KEY = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": URL, "aud": URL, "sub": "f1@x", "client_id": "f1@x", "exp": now + 60,
            "iat": now, "jti": "a" * 32, "token_id": "a" * 32, "scope": "cli"}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def sign(payload: dict, key=KEY, **header) -> str:
    alg = "RS256" if isinstance(key, RSAKey) else "ES256"
    head = {"alg": alg, "typ": "at+jwt", "kid": key.kid, **header}
    return jwt.encode(head, payload, key, algorithms=[head["alg"]])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict, payload: dict, sign_input) -> str:
    """A JWS made by hand, for what joserfc refuses to make."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign_input(signing_input.encode()))}"


@pytest.fixture
def server():
    with requests_mock.Mocker() as mock:
        mock.get(f"{URL}/oauth/revocations", json={"items": [], "next_cursor": "1.0"})
        mock.get(f"{URL}/.well-known/oauth-authorization-server", json={"issuer": URL})
        mock.get(f"{URL}/oauth/jwks", json={"keys": [KEY.as_dict(private=False),
                                                     EC_KEY.as_dict(private=False)]})
        yield mock


def verifier() -> TokenVerifier:
    return TokenVerifier(URL, "rs-1", "sgs_x")


def refusal(token: str) -> str:
    """Why the validator refuses ``token`` (the verifier only says "not active")."""
    with pytest.raises(AuthenticationError) as refused:
        JwtValidator(requests.Session(), URL, 5.0, None).validate(token, time.time())
    return str(refused.value)


def test_valid_token_gives_its_claims(server):
    assert verifier().verify(sign(claims()))["sub"] == "f1@x"


def test_es256_token_issued_before_the_switch_to_rs256_is_valid(server):
    assert verifier().verify(sign(claims(), key=EC_KEY))["sub"] == "f1@x"


def test_alg_none_is_refused(server):
    token = compact({"alg": "none", "typ": "at+jwt", "kid": KEY.kid}, claims(), lambda m: b"")
    with pytest.raises(AuthenticationError):
        verifier().verify(token + "AAAA")


@pytest.mark.parametrize("alg", [["RS256"], {"RS256": 1}, None, "RS512", "PS256"])
def test_any_other_alg_value_is_refused(server, alg):
    token = compact({"alg": alg, "typ": "at+jwt", "kid": KEY.kid}, claims(), lambda m: b"x")
    assert "neither RS256 nor ES256" in refusal(token)


@pytest.mark.parametrize("kid", [KEY.kid, EC_KEY.kid])
def test_hmac_keyed_with_the_public_key_is_refused(server, kid):
    """The classic confusion: HS256 with the published key's bytes as the secret."""
    public = (KEY if kid == KEY.kid else EC_KEY).as_pem(private=False)
    token = compact({"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims(),
                    lambda m: hmac.new(public, m, hashlib.sha256).digest())
    assert "neither RS256 nor ES256" in refusal(token)


def test_es256_header_on_the_rsa_key_is_refused(server):
    """The key decides the algorithm: an EC signature naming the RSA key's kid."""
    token = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": KEY.kid}, claims(), EC_KEY,
                       algorithms=["ES256"])
    assert "does not match the key" in refusal(token)


def test_rs256_header_on_the_ec_key_is_refused(server):
    stranger = RSAKey.generate_key(2048, auto_kid=True)
    token = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": EC_KEY.kid}, claims(), stranger,
                       algorithms=["RS256"])
    assert "does not match the key" in refusal(token)


def test_rsa_key_under_2048_bits_is_not_trusted(server):
    weak = rsa.generate_private_key(65537, 1024)
    numbers = weak.public_key().public_numbers()
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "weak", "e": "AQAB",
           "n": b64(numbers.n.to_bytes(128, "big"))}
    server.get(f"{URL}/oauth/jwks", json={"keys": [jwk]})
    token = compact({"alg": "RS256", "typ": "at+jwt", "kid": "weak"}, claims(),
                    lambda m: weak.sign(m, padding.PKCS1v15(), hashes.SHA256()))
    assert "unknown key" in refusal(token)


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


@pytest.mark.parametrize("make", [lambda: RSAKey.generate_key(2048, auto_kid=True),
                                  lambda: ECKey.generate_key("P-256", auto_kid=True)])
def test_key_not_in_the_jwks_is_refused(server, make):
    stranger = make()
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
