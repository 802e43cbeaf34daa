"""What a copy of the store gives away: SQLite files are private to the
server's user, and private signing keys are encrypted with a key derived
from SCOPEGATE_SECRET_KEY (clear keys from older versions are encrypted by
``init-db``; a change of secret is carried by SCOPEGATE_SECRET_KEY_PREVIOUS)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from app.database import upgrade
from app.models import SigningKey, db
from app.services import keys
from tests.store.conftest import ON_PG, make_app


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(ON_PG, reason="SQLite files")
def test_sqlite_files_are_created_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "instance" / "new.db"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        keys.ensure_key()
    assert mode(path) == 0o600
    for extra in (f"{path}-wal", f"{path}-shm"):
        if os.path.exists(extra):
            assert mode(extra) & 0o077 == 0
    assert mode(path.parent) == 0o700


@pytest.mark.skipif(ON_PG, reason="SQLite files")
def test_a_world_readable_database_is_tightened(tmp_path):
    path = tmp_path / "old.db"
    path.touch()
    os.chmod(path, 0o644)
    make_app(f"sqlite:///{path}")
    assert mode(path) == 0o600


def stored_jwks(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SigningKey.private_jwk)))


def test_private_keys_are_encrypted_at_rest(fresh_url):
    app = make_app(fresh_url)
    with app.app_context():
        upgrade()
        keys.ensure_key()
        jwks = keys.jwks()
    [stored] = stored_jwks(app)
    assert stored.startswith(keys.SEALED) and '"d"' not in stored
    with app.app_context():
        private_d = keys.signing_key().as_dict(private=True)["d"]
    assert private_d not in stored
    assert "d" not in jwks["keys"][0]


def test_the_sealing_key_is_the_documented_derivation_of_the_secret(fresh_url):
    """HKDF-SHA256 of SCOPEGATE_SECRET_KEY, no salt, a fixed label: what an
    earlier version sealed, this one opens (and the other way round)."""
    import base64

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"scopegate signing-key encryption").derive(b"store-test-secret")
    fernet = Fernet(base64.urlsafe_b64encode(derived))
    app = make_app(fresh_url)
    with app.app_context():
        upgrade()
        keys.ensure_key()
        kid = keys.signing_key().kid
    [stored] = stored_jwks(app)
    assert json.loads(fernet.decrypt(stored.removeprefix(keys.SEALED).encode()))["kid"] == kid


def test_init_db_encrypts_keys_stored_in_clear(fresh_url):
    app = make_app(fresh_url)
    with app.app_context():
        upgrade()
        clear = json.dumps({"kty": "EC", "crv": "P-256", "kid": "legacy",
                            **_fresh_private_members()})
        db.session.add(SigningKey(kid="legacy", private_jwk=clear))
        db.session.commit()
        assert keys.signing_key().kid == "legacy"  # still readable before the migration
    result = app.test_cli_runner().invoke(args=["init-db", "--json"])
    assert json.loads(result.output)["signing_keys_encrypted"] == 1
    stored = stored_jwks(app)  # the legacy ES256 key and the ID-token key init-db added
    assert len(stored) == 2 and all(s.startswith(keys.SEALED) for s in stored)
    with app.app_context():
        assert keys.signing_key().kid == "legacy"


def _fresh_private_members() -> dict:
    from joserfc.jwk import ECKey

    members = ECKey.generate_key("P-256").as_dict(private=True)
    return {k: members[k] for k in ("x", "y", "d")}


def test_changing_the_secret_key_with_the_previous_one_re_encrypts(fresh_url):
    old = make_app(fresh_url)
    with old.app_context():
        upgrade()
        keys.ensure_key()
        kid = keys.signing_key().kid
    wrong = make_app(fresh_url, SCOPEGATE_SECRET_KEY="a-new-secret")
    with wrong.app_context(), pytest.raises(InvalidToken):
        keys.signing_key()
    rotated = make_app(fresh_url, SCOPEGATE_SECRET_KEY="a-new-secret",
                       SCOPEGATE_SECRET_KEY_PREVIOUS="store-test-secret")
    result = rotated.test_cli_runner().invoke(args=["init-db", "--json"])
    assert json.loads(result.output)["signing_keys_encrypted"] == 1
    after = make_app(fresh_url, SCOPEGATE_SECRET_KEY="a-new-secret")  # previous dropped
    with after.app_context():
        assert keys.signing_key().kid == kid


def test_init_db_re_encrypts_every_key_not_under_the_current_secret(fresh_url):
    """A key already under the current secret is left alone and the ones after
    it are still done: an old-secret key, a current one, then a clear one
    give two re-encrypted keys, all opened by the new secret alone."""
    old = make_app(fresh_url)
    with old.app_context():
        upgrade()
        keys.ensure_key()  # ES256, under the old secret
        old_kid = keys.signing_key().kid
    rotated = make_app(fresh_url, SCOPEGATE_SECRET_KEY="a-new-secret",
                       SCOPEGATE_SECRET_KEY_PREVIOUS="store-test-secret")
    with rotated.app_context():
        keys.ensure_key(keys.ID_TOKEN_ALG)  # under the new secret already
        current_kid = keys.signing_key(keys.ID_TOKEN_ALG).kid
        db.session.add(SigningKey(kid="legacy", private_jwk=json.dumps(
            {"kty": "EC", "crv": "P-256", "kid": "legacy", **_fresh_private_members()})))
        db.session.commit()
    result = rotated.test_cli_runner().invoke(args=["init-db", "--json"])
    assert json.loads(result.output)["signing_keys_encrypted"] == 2
    after = make_app(fresh_url, SCOPEGATE_SECRET_KEY="a-new-secret")  # previous dropped
    stored = stored_jwks(after)
    assert len(stored) == 3 and all(s.startswith(keys.SEALED) for s in stored)
    with after.app_context():
        assert {json.loads(keys.unseal(s))["kid"] for s in stored} == {
            old_kid, current_kid, "legacy"}


def test_init_db_says_whether_it_created_the_signing_key(fresh_url):
    runner = make_app(fresh_url).test_cli_runner()
    first = json.loads(runner.invoke(args=["init-db", "--json"]).output)
    again = json.loads(runner.invoke(args=["init-db", "--json"]).output)
    assert (first["signing_key_created"], again["signing_key_created"]) == (True, False)
