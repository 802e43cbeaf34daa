"""Signing keys (joserfc): created by ``init-db``, rotated by ``rotate-keys``.

The newest key signs; the previous one stays in the JWKS so that anything it
signed before the rotation still verifies. Older keys are dropped.

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
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select

from app.models import SigningKey, db, now
from app.services import audit
from app.services.callers import Caller

ALG = "ES256"
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


def _private(key: SigningKey) -> ECKey:
    return ECKey.import_key(json.loads(unseal(key.private_jwk)))


def _generate() -> SigningKey:
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALG}, auto_kid=True)
    return SigningKey(kid=key.kid, private_jwk=seal(json.dumps(key.as_dict(private=True))))


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
    keyset = KeySet([_private(k) for k in published()])
    return keyset.as_dict(private=False)


def signing_key() -> ECKey:
    """The key new signatures are made with (always chosen by ``kid``)."""
    return _private(published()[0])
