"""Signing keys (joserfc): created by ``init-db``, rotated by ``rotate-keys``.

Two algorithms, each with its own keys: ``ES256`` (the server's own JWTs) and
``RS256``, which signs ID tokens because OpenID Connect makes it the default
every relying party must accept (Discovery §3, Registration §2). The newest
key of each algorithm signs; the previous one stays in the JWKS so that
anything it signed before a rotation still verifies. Older keys are dropped.
"""

from __future__ import annotations

import json

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select

from app.models import SigningKey, db, now
from app.services import audit
from app.services.callers import Caller

ALG = "ES256"
#: ID tokens: the algorithm every OpenID Connect relying party supports.
ID_TOKEN_ALG = "RS256"  # noqa: S105 - an algorithm name
ALGS = (ALG, ID_TOKEN_ALG)
_KEEP = 2  # the current key of an algorithm and the one before it


def _generate(alg: str) -> SigningKey:
    parameters = {"use": "sig", "alg": alg}
    if alg == ID_TOKEN_ALG:
        key = RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
    else:
        key = ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)
    return SigningKey(kid=key.kid, private_jwk=json.dumps(key.as_dict(private=True)))


def _alg(row: SigningKey) -> str:
    return json.loads(row.private_jwk).get("alg", ALG)


def _by_alg() -> dict[str, list[SigningKey]]:
    """Every key, newest first, grouped by algorithm (a handful of rows)."""
    groups: dict[str, list[SigningKey]] = {}
    for row in db.session.scalars(select(SigningKey).order_by(SigningKey.id.desc())):
        groups.setdefault(_alg(row), []).append(row)
    return groups


def published() -> list[SigningKey]:
    """The current key of each algorithm and the one before it, newest first."""
    keep = [row for rows in _by_alg().values() for row in rows[:_KEEP]]
    return sorted(keep, key=lambda row: row.id, reverse=True)


def ensure_key(alg: str = ALG) -> bool:
    """Create the first key of ``alg`` if there is none. True when one was created."""
    if _by_alg().get(alg):
        return False
    db.session.add(_generate(alg))
    db.session.commit()
    return True


def rotate(actor: Caller) -> tuple[str, list[str]]:
    """A new key for every algorithm in use; keep the previous one of each
    published, delete older ones. Returns the new ES256 kid and the removed kids."""
    groups = _by_alg()
    new = {alg: _generate(alg) for alg in (groups.keys() | {ALG})}
    db.session.add_all(new.values())
    dropped = []
    for rows in groups.values():
        previous, older = rows[:_KEEP - 1], rows[_KEEP - 1:]
        for key in previous:
            key.retired_at = key.retired_at or now()
        for key in older:
            dropped.append(key.kid)
            db.session.delete(key)
    for key in new.values():
        audit.record("key.rotate", actor=actor, target=key.kid)
    db.session.commit()
    return new[ALG].kid, dropped


#: Imported keys by kid. Loading an RSA private key validates it (~120 ms, measured),
#: which no ID token should pay. Safe to keep: a kid names one key for ever
#: (the JWK thumbprint); which kid signs is still read from the store each time.
_IMPORTED: dict[str, ECKey | RSAKey] = {}


def _import(row: SigningKey) -> ECKey | RSAKey:
    key = _IMPORTED.get(row.kid)
    if key is None:
        data = json.loads(row.private_jwk)
        key = RSAKey.import_key(data) if data.get("kty") == "RSA" else ECKey.import_key(data)
        if len(_IMPORTED) > 64:  # rotations are rare; never let it grow unbounded
            _IMPORTED.clear()
        _IMPORTED[row.kid] = key
    return key


def jwks() -> dict:
    """The public JWKS document."""
    return KeySet([_import(k) for k in published()]).as_dict(private=False)


def signing_key(alg: str = ALG):
    """The key new signatures of ``alg`` are made with (always chosen by
    ``kid``). The ID-token key is created on first use when ``init-db`` did
    not make one (databases initialised before it existed)."""
    rows = _by_alg().get(alg)
    if not rows:
        ensure_key(alg)
        rows = _by_alg()[alg]
    return _import(rows[0])


def verify_own(token: str) -> dict | None:
    """The claims of a JWT this server signed (with a published key, for this
    issuer), expired or not; None for anything else. For ``id_token_hint``,
    which names a past sign-in and is routinely expired."""
    if not isinstance(token, str) or len(token) > 8192:
        return None
    keyset = KeySet([_import(k) for k in published()])
    try:
        decoded = jwt.decode(token, keyset, algorithms=list(ALGS))
    except (JoseError, ValueError, TypeError):
        return None
    if decoded.claims.get("iss") != current_app.config["SCOPEGATE_ISSUER"].rstrip("/"):
        return None
    return dict(decoded.claims)
