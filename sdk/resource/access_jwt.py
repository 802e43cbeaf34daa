"""Local validation of Scopegate's RFC 9068 JWT access tokens.

Deliberately narrow: exactly what Scopegate issues is accepted (``typ``
``at+jwt``, a ``kid`` found in the JWKS, ``iss``, ``aud``, ``exp``), everything
else is refused. The algorithm is the JWKS key's, never the token's: an RSA
key (2048 bits or more) verifies ``RS256`` only, an EC P-256 key ``ES256``
only, and a header naming any other algorithm than its key's is refused. So
no token can choose ``none``, HMAC with the public key, or another key type.
Scopegate signs with ``RS256`` (its signature check is 3 times cheaper than
ES256's, bench/RESULTS.md section 12); ``ES256`` is still accepted for
tokens issued before the switch, as long as their key is published.

The signature is checked with ``cryptography`` directly: faster than PyJWT
and joserfc (bench/resource_side.py), and the only dependency of the
``scopegate[resource]`` extra.

Keys follow rotation by ``kid``: an unknown ``kid`` refetches the JWKS, at
most once per :data:`JWKS_REFETCH_INTERVAL` seconds, so a flood of forged
``kid`` values cannot turn into a flood of requests.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from sdk.auth.exceptions import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    error_from_response,
)

#: Seconds between two JWKS fetches caused by unknown ``kid`` values.
JWKS_REFETCH_INTERVAL = 1.0
_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_REQUIRED = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope")
#: RSA keys below this size are not trusted (RFC 7518 §3.3 requires 2048 bits).
MIN_RSA_BITS = 2048


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("sg")


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _invalid(why: str) -> AuthenticationError:
    return AuthenticationError(f"The access token is invalid: {why}.")


class JwtValidator:
    """Validates JWT access tokens against the issuer's JWKS."""

    def __init__(self, session: requests.Session, url: str, timeout: float,
                 audience: str | None) -> None:
        try:
            from cryptography.exceptions import InvalidSignature
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigurationError('JWT access tokens need: pip install "scopegate[resource]"'
                                     ) from exc
        self._invalid_signature = InvalidSignature
        self._session, self._url, self._timeout = session, url, timeout
        self._audience = audience
        self._issuer: str | None = None
        #: ``kid`` -> (the key's algorithm, its signature check).
        self._keys: dict[str, tuple[str, Callable[[bytes, bytes], None]]] = {}
        #: ``(kid, alg)`` of headers already seen on a valid token, by their base64
        #: text: every token one key signs has the same header, so it is parsed once.
        self._headers: dict[str, tuple[str, str]] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def validate(self, token: str, now: float) -> dict:
        """The token's claims, or AuthenticationError."""
        if len(token) > 8192 or not _SHAPE.fullmatch(token):
            raise _invalid("not a compact JWS")
        head_b64, payload_b64, signature_b64 = token.split(".")
        kid, alg = self._header(head_b64)
        key_alg, verify = self._key(kid)
        if alg != key_alg:  # the key decides; a header cannot pick another algorithm
            raise _invalid(f"algorithm {alg} does not match the key's ({key_alg})")
        try:
            verify(_b64(signature_b64), f"{head_b64}.{payload_b64}".encode())
        except (ValueError, binascii.Error, self._invalid_signature):
            raise _invalid("bad signature") from None
        if len(self._headers) < 64:  # a handful of keys; only signed headers are kept
            self._headers[head_b64] = (kid, alg)
        try:
            claims = json.loads(_b64(payload_b64).decode())
        except (ValueError, binascii.Error):
            raise _invalid("unreadable claims") from None
        self._check_claims(claims, now)
        return claims

    def _header(self, head_b64: str) -> tuple[str, str]:
        """``kid`` and ``alg`` of an acceptable header (``typ`` at+jwt); the
        caller checks that ``alg`` is the algorithm of the key ``kid`` names."""
        known = self._headers.get(head_b64)
        if known is not None:
            return known
        try:
            header = json.loads(_b64(head_b64).decode())
        except (ValueError, binascii.Error):
            raise _invalid("unreadable header") from None
        if not isinstance(header, dict) or str(header.get("alg")) not in _VERIFIERS:
            raise _invalid("algorithm is neither RS256 nor ES256")
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise _invalid("not an access token (typ at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _invalid("no key id")
        return kid, header["alg"]

    def _check_claims(self, claims: Any, now: float) -> None:
        if not isinstance(claims, dict) or any(c not in claims for c in _REQUIRED):
            raise _invalid("required claims are missing")
        if claims["iss"] != self._issuer:
            raise _invalid("issued by another server")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (self._audience or self._issuer) not in audiences:
            raise _invalid("meant for another audience")
        if not isinstance(claims["exp"], int) or claims["exp"] <= now:
            raise _invalid("expired")

    def _key(self, kid: str) -> tuple[str, Callable[[bytes, bytes], None]]:
        key = self._keys.get(kid)
        if key is None:
            with self._lock:
                key = self._keys.get(kid)
                if key is None and time.monotonic() - self._fetched_at >= JWKS_REFETCH_INTERVAL:
                    self._fetch_keys()
                    key = self._keys.get(kid)
        if key is None:
            raise _invalid("signed by an unknown key")
        return key

    def _fetch_keys(self) -> None:
        """The issuer (discovery) and the JWKS: signing keys by ``kid``, each
        with the one algorithm its type allows; any other key is skipped."""
        self._fetched_at = time.monotonic()
        if self._issuer is None:
            self._issuer = self._get("/.well-known/oauth-authorization-server")["issuer"]
        keys = {}
        for jwk in self._get("/oauth/jwks").get("keys", []):
            alg = _key_alg(jwk) if isinstance(jwk, dict) else None
            if (alg is None or jwk.get("alg", alg) != alg or jwk.get("use", "sig") != "sig"
                    or not isinstance(jwk.get("kid"), str)):
                continue
            try:
                keys[jwk["kid"]] = (alg, _VERIFIERS[alg](jwk))
            except (KeyError, TypeError, ValueError, binascii.Error):
                continue  # malformed, or an RSA key too small to trust
        self._keys = keys

    def _get(self, path: str) -> dict:
        try:
            response = self._session.get(f"{self._url}{path}", timeout=self._timeout,
                                         allow_redirects=False)
        except requests.RequestException as exc:
            raise NetworkError(f"GET {path} failed: {type(exc).__name__}.") from exc
        if response.status_code != 200:
            raise error_from_response(response)
        return response.json()


def _int(value: str) -> int:
    return int.from_bytes(_b64(value), "big")


def _es256(jwk: dict) -> Callable[[bytes, bytes], None]:
    """The signature check of an EC P-256 JWK: 64 raw bytes, r then s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]),
                                        ec.SECP256R1()).public_key()
    ecdsa = ec.ECDSA(hashes.SHA256())

    def verify(signature: bytes, message: bytes) -> None:
        if len(signature) != 64:
            raise ValueError("an ES256 signature is 64 bytes")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                   int.from_bytes(signature[32:], "big"))
        key.verify(der, message, ecdsa)
    return verify


def _rs256(jwk: dict) -> Callable[[bytes, bytes], None]:
    """The signature check of an RSA JWK (RSASSA-PKCS1-v1_5 with SHA-256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if key.key_size < MIN_RSA_BITS:
        raise ValueError("RSA key too small")
    size, pkcs1, sha256 = (key.key_size + 7) // 8, padding.PKCS1v15(), hashes.SHA256()

    def verify(signature: bytes, message: bytes) -> None:
        if len(signature) != size:
            raise ValueError("an RS256 signature is as long as the modulus")
        key.verify(signature, message, pkcs1, sha256)
    return verify


#: The only algorithms accepted, each with the JWK type that carries it.
_VERIFIERS = {"RS256": _rs256, "ES256": _es256}


def _key_alg(jwk: dict) -> str | None:
    """The one algorithm a JWK's type allows, or None for any other key."""
    if jwk.get("kty") == "RSA":
        return "RS256"
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return "ES256"
    return None
