"""Tokens and secrets: prefix + 192 random bits + checksum, stored only as a digest."""

import math

import pytest
from sqlalchemy import text

from app.models import db
from app.services import secrets


@pytest.mark.parametrize("prefix", [secrets.PERSONAL, secrets.SCOPED, secrets.CLIENT_SECRET])
def test_generated_values_carry_prefix_and_valid_checksum(prefix):
    value = secrets.generate(prefix)
    assert value.startswith(prefix + "_")
    assert secrets.is_well_formed(value, prefix)


def test_body_carries_at_least_160_random_bits():
    assert 33 * math.log2(62) >= 160
    assert len({secrets.generate("sgt") for _ in range(1000)}) == 1000


def test_a_changed_character_fails_the_checksum():
    value = secrets.generate("sgt")
    flipped = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    assert not secrets.is_well_formed(flipped)


@pytest.mark.parametrize("junk", ["", "sgt_", "nope", "sgx_" + "a" * 39, "Bearer x" * 10])
def test_noise_is_not_well_formed(junk):
    assert not secrets.is_well_formed(junk)


def test_a_right_checksum_does_not_make_a_wrong_shape_well_formed():
    """Prefix, separator and alphabet are each checked, not only the checksum."""
    value = secrets.generate("sgt")
    body = value[4:4 + 33]
    dashed = body[:-1] + "-"  # outside the base62 alphabet, with its own right checksum
    for shaped in ("sgx_" + value[4:], "sgt-" + value[4:],
                   "sgt_" + dashed + secrets._checksum(dashed)):
        assert not secrets.is_well_formed(shaped), shaped


def test_database_holds_no_token_or_secret_value(app, org, machine_user, scoped_token, client):
    from tests.conftest import issue

    issued = issue(client, machine_user).get_json()["access_token"]
    values = [org.admin_token, scoped_token["token"], machine_user.client_secret, issued]
    with app.app_context():
        dump = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608
                dump.append(" ".join(str(v) for v in row))
    blob = "\n".join(dump)
    for value in values:
        assert value not in blob
        assert value.split("_", 1)[1][:20] not in blob
    assert secrets.digest(scoped_token["token"]) in blob
