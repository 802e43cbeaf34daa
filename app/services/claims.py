"""What a token says about itself: the RFC 7662 introspection members, and the
same members signed into an RFC 9068 JWT access token.

One function builds the members for both, so a resource server sees the same
claims whether it introspects an opaque token or validates a JWT locally.
"""

from __future__ import annotations

import re

from flask import current_app
from joserfc import jwt

from app.services import keys, lifetimes
from sdk.auth.scopes import ADMIN_SCOPE

PERSONAL, REFRESH = lifetimes.PERSONAL, lifetimes.REFRESH
OPAQUE, JWT = "opaque", "jwt"
#: RFC 9068 §2.1: the media type of a JWT access token, in its ``typ`` header.
JWT_TYPE = "at+jwt"
#: Three base64url parts: what a JWT value looks like before any database read.
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]{2,1024}\.[A-Za-z0-9_-]{2,3072}\.[A-Za-z0-9_-]{2,512}$")


def introspection(token) -> dict:
    """RFC 7662 members plus the product's own (``customer``, ``user_type``...)."""
    human = token.is_human
    cfg = current_app.config
    members = {
        "active": True,
        "scope": token.scope,
        "client_id": token.client_id or token.subject_uid,
        "sub": token.subject_uid,
        "exp": token.expires_at,
        "iat": token.issued_at,
        "iss": cfg["SCOPEGATE_ISSUER"],
        "token_type": "Bearer",
        "token_id": token.token_id,
        "user_id": token.subject_name,
        "email": token.subject_name if human else token.subject_uid,
        "customer": token.org_name,
        "user_type": "human" if human else "generated",
        "role": role_of(token),
        "env": cfg["SCOPEGATE_ENV"],
        "renewable": token.format != JWT and lifetimes.renewable(
            token.kind, token.issued_at, token.expires_at),
    }
    if token.kind == REFRESH:
        members["token_type"] = "refresh_token"  # noqa: S105 - a token type, not a secret
    return members


def role_of(token) -> str:
    """The ``role`` a token reports: a personal token's comes from its reserved
    scope (``admin`` or ``member``), a machine user's is ``machine``, and a
    person's app token carries the person's current role."""
    if token.kind == PERSONAL:
        return "admin" if ADMIN_SCOPE in token.scopes else "member"
    if not token.is_human:
        return "machine"
    return getattr(token, "account_role", None) or "member"


def access_token_format() -> str:
    """``SCOPEGATE_ACCESS_TOKEN_FORMAT`` (scoped tokens only: personal tokens
    are admin credentials and stay opaque, recognisable by secret scanners)."""
    return current_app.config["SCOPEGATE_ACCESS_TOKEN_FORMAT"]


def audience() -> str:
    """The ``aud`` of JWT access tokens: the platform's resource servers."""
    cfg = current_app.config
    return cfg["SCOPEGATE_ACCESS_TOKEN_AUDIENCE"] or cfg["SCOPEGATE_ISSUER"]


def encode_jwt(token) -> str:
    """An RFC 9068 JWT access token: the introspection members plus ``aud``
    and ``jti`` (= ``token_id``), signed with the current RS256 key of the
    JWKS (by ``kid``; keys.ACCESS_TOKEN_ALG says why RS256)."""
    members = introspection(token)
    del members["active"]
    members.update(aud=audience(), jti=token.token_id)
    key = keys.signing_key(keys.ACCESS_TOKEN_ALG)
    header = {"alg": keys.ACCESS_TOKEN_ALG, "typ": JWT_TYPE, "kid": key.kid}
    return jwt.encode(header, members, key, algorithms=[keys.ACCESS_TOKEN_ALG])


def looks_like_jwt(value: str) -> bool:
    """Three base64url parts of sane length (the lookup is by digest anyway)."""
    return bool(_JWT_SHAPE.fullmatch(value))
