"""Signing keys (joserfc): created by ``init-db``, rotated by ``rotate-keys``.

The newest key signs; the previous one stays in the JWKS so that anything it
signed before the rotation still verifies. Older keys are dropped.
"""

from __future__ import annotations

import json

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select

from app.models import SigningKey, db, now
from app.services import audit
from app.services.callers import Caller

ALG = "ES256"


def _generate() -> SigningKey:
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALG}, auto_kid=True)
    return SigningKey(kid=key.kid, private_jwk=json.dumps(key.as_dict(private=True)))


def published() -> list[SigningKey]:
    """The current key and the one before it, newest first."""
    return list(db.session.scalars(
        select(SigningKey).order_by(SigningKey.id.desc()).limit(2)))


def ensure_key() -> bool:
    """Create the first key if there is none. True when one was created."""
    if published():
        return False
    db.session.add(_generate())
    db.session.commit()
    return True


def rotate(actor: Caller) -> tuple[str, list[str]]:
    """New signing key; keep the previous one published, delete older ones."""
    new = _generate()
    db.session.add(new)
    db.session.flush()
    keys = list(db.session.scalars(select(SigningKey).order_by(SigningKey.id.desc())))
    previous, older = keys[1:2], keys[2:]
    for key in previous:
        key.retired_at = key.retired_at or now()
    for key in older:
        db.session.delete(key)
    audit.record("key.rotate", actor=actor, target=new.kid)
    db.session.commit()
    return new.kid, [k.kid for k in older]


def jwks() -> dict:
    """The public JWKS document."""
    keyset = KeySet([ECKey.import_key(json.loads(k.private_jwk)) for k in published()])
    return keyset.as_dict(private=False)


def signing_key() -> ECKey:
    """The key new signatures are made with (always chosen by ``kid``)."""
    current = published()[0]
    return ECKey.import_key(json.loads(current.private_jwk))


def verify_own(token: str) -> dict | None:
    """The claims of a JWT this server signed (with a published key, for this
    issuer), expired or not; None for anything else. For ``id_token_hint``,
    which names a past sign-in and is routinely expired."""
    if not isinstance(token, str) or len(token) > 8192:
        return None
    keyset = KeySet([ECKey.import_key(json.loads(k.private_jwk)) for k in published()])
    try:
        decoded = jwt.decode(token, keyset, algorithms=[ALG])
    except (JoseError, ValueError, TypeError):
        return None
    if decoded.claims.get("iss") != current_app.config["SCOPEGATE_ISSUER"].rstrip("/"):
        return None
    return dict(decoded.claims)
