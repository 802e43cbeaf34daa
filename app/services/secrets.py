"""Token and secret format: ``<prefix>_<33 base62 chars of 192 random bits><6 base62 checksum>``.

The prefix (``sgp_`` personal, ``sgt_`` scoped, ``sgs_`` client secret,
``sga_`` a person's access token held by an app, ``sgr_`` its refresh token) makes
a leaked value recognisable to secret scanners; the CRC32 checksum lets them
(and us) tell a real value from noise offline, so malformed input never costs
a database read. Values are stored only as SHA-256 digests: they carry 192
bits of entropy, so a slow password hash would add CPU cost and no safety.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib

PERSONAL = "sgp"
SCOPED = "sgt"
CLIENT_SECRET = "sgs"  # noqa: S105 - a prefix, not a secret
APP_ACCESS = "sga"
REFRESH = "sgr"
_PREFIXES = frozenset({PERSONAL, SCOPED, CLIENT_SECRET, APP_ACCESS, REFRESH})

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALPHABET_SET = frozenset(_ALPHABET)
_BODY_LEN = 33  # 62**33 > 2**192
_CHECK_LEN = 6  # 62**6 > 2**32
_RANDOM_BYTES = 24


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK_LEN)


def generate(prefix: str) -> str:
    """A new secret value with the given prefix."""
    body = _base62(int.from_bytes(secrets.token_bytes(_RANDOM_BYTES), "big"), _BODY_LEN)
    return f"{prefix}_{body}{_checksum(body)}"


def is_well_formed(value: str, prefix: str | None = None) -> bool:
    """Prefix, length, alphabet and checksum are right (says nothing of validity)."""
    if not isinstance(value, str) or len(value) != 4 + _BODY_LEN + _CHECK_LEN:
        return False
    head, sep, rest = value[:3], value[3], value[4:]
    if sep != "_" or head not in _PREFIXES:
        return False
    if prefix is not None and head != prefix:
        return False
    body, check = rest[:_BODY_LEN], rest[_BODY_LEN:]
    if not _ALPHABET_SET.issuperset(rest):
        return False
    return secrets.compare_digest(check, _checksum(body))


def digest(value: str) -> str:
    """What is stored in place of a secret value (hex SHA-256)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token_id() -> str:
    """Public handle of a token: 32 hex chars, not secret."""
    return secrets.token_hex(16)


def new_unique_id(domain: str) -> str:
    """A user's generated unique ID, e.g. ``f1bd9ff87c@scopegate.local``."""
    return f"{secrets.token_hex(5)}@{domain}"


#: The shape of a generated unique ID, whatever the domain (it may change).
_UNIQUE_ID = re.compile(r"^[0-9a-f]{10}@[^@]+$", re.IGNORECASE)


def looks_like_unique_id(value: str) -> bool:
    """True for ``f1bd9ff87c@anything``: a name of that shape could be taken for
    another user's unique ID wherever a name or an ID is accepted."""
    return bool(_UNIQUE_ID.fullmatch(value))
