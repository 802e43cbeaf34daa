"""Signing keys (joserfc): created by ``init-db``, rotated by ``rotate-keys``.

Two algorithms, each with its own keys. ``RS256`` signs ID tokens, because
OpenID Connect makes it the default every relying party must accept
(Discovery §3, Registration §2), and RFC 9068 JWT access tokens, because a
resource server checks an RS256 signature in 27 µs against 82 µs for ES256
(bench/RESULTS.md section 12): that is what lets a service validate 10,000
JWTs a second on one core. The two kinds cannot be mistaken for each other:
``typ`` ``at+jwt`` against ``JWT``, and ``aud``. ``ES256`` keys sign nothing
new; they stay published (and rotated) so that access tokens issued before
the switch keep validating until they expire. The newest key of each
algorithm signs; the previous one stays in the JWKS so that anything it
signed before a rotation still verifies. Older keys are dropped.

Private keys are encrypted at rest (Fernet, with a key derived from
``SCOPEGATE_SECRET_KEY`` by HKDF-SHA256): a copy of the database alone signs
nothing. Rows written before encryption existed are read as they are and
encrypted by the next ``init-db``. To change ``SCOPEGATE_SECRET_KEY``: put the
old value in ``SCOPEGATE_SECRET_KEY_PREVIOUS``, set the new one, run
``init-db`` (it re-encrypts every key with the new secret), then drop the
previous value (docs/production-limits.md).
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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
#: RFC 9068 JWT access tokens: the cheapest signature for resource servers to check.
ACCESS_TOKEN_ALG = ID_TOKEN_ALG
ALGS = (ALG, ID_TOKEN_ALG)
_KEEP = 2  # the current key of an algorithm and the one before it


def _generate(alg: str) -> SigningKey:
    parameters = {"use": "sig", "alg": alg}
    if alg == ID_TOKEN_ALG:
        key = RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
    else:
        key = ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)
    return SigningKey(kid=key.kid, private_jwk=seal(json.dumps(key.as_dict(private=True))))


#: Marks an encrypted ``private_jwk`` (a clear one is JSON and starts with ``{``).
SEALED = "fernet:"


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"scopegate signing-key encryption").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _sealer() -> MultiFernet:
    """Encrypts with the current secret; decrypts with it or the previous one."""
    cfg = current_app.config
    secrets = [cfg["SCOPEGATE_SECRET_KEY"]]
    if cfg.get("SCOPEGATE_SECRET_KEY_PREVIOUS"):
        secrets.append(cfg["SCOPEGATE_SECRET_KEY_PREVIOUS"])
    return MultiFernet([_fernet(s) for s in secrets])


def seal(private_jwk: str) -> str:
    return SEALED + _sealer().encrypt(private_jwk.encode()).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(SEALED):
        return stored  # written before encryption; init-db seals it
    return _sealer().decrypt(stored[len(SEALED):].encode()).decode()


def reseal_all() -> int:
    """Encrypt clear rows, and re-encrypt rows still sealed with the previous
    secret (after a change of ``SCOPEGATE_SECRET_KEY``). How many changed."""
    current = _fernet(current_app.config["SCOPEGATE_SECRET_KEY"])
    changed = 0
    for key in db.session.scalars(select(SigningKey)):
        if key.private_jwk.startswith(SEALED):
            try:
                current.decrypt(key.private_jwk[len(SEALED):].encode())
                continue  # already under the current secret
            except InvalidToken:
                pass
        key.private_jwk = seal(unseal(key.private_jwk))
        changed += 1
    db.session.commit()
    return changed


def _alg(row: SigningKey) -> str:
    return _import(row).alg or ALG


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


#: Imported keys by kid and sealed row. Loading an RSA private key validates it
#: (~120 ms, measured), which no ID token should pay. Safe to keep: a kid names
#: one key for ever (the JWK thumbprint), and the row's ciphertext and the
#: secret that opens it are part of the cache key, so a process whose secret no
#: longer opens the row does not sign with it; which kid signs is still read
#: from the store each time.
_IMPORTED: dict[tuple[str, str, str], ECKey | RSAKey] = {}


def _import(row: SigningKey) -> ECKey | RSAKey:
    cache_key = (row.kid, row.private_jwk, current_app.config["SCOPEGATE_SECRET_KEY"])
    key = _IMPORTED.get(cache_key)
    if key is None:
        data = json.loads(unseal(row.private_jwk))
        key = RSAKey.import_key(data) if data.get("kty") == "RSA" else ECKey.import_key(data)
        if len(_IMPORTED) > 64:  # rotations are rare; never let it grow unbounded
            _IMPORTED.clear()
        _IMPORTED[cache_key] = key
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
