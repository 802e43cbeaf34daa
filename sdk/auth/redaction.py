"""What a Scopegate secret looks like, and how text is made safe to show.

One place for the shape of tokens and client secrets (``sgp_``, ``sgt_``,
``sgs_`` + base62), used by the SDK (refuse a token where an id goes), the
CLI, and the server (never log or echo one), and one filter for text that
came from a server before it reaches a terminal.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["SECRET_PREFIXES", "looks_like_secret", "printable", "redact"]

#: Prefixes of personal tokens, scoped tokens, client secrets, people's app
#: access tokens and refresh tokens.
SECRET_PREFIXES = ("sgp_", "sgt_", "sgs_", "sga_", "sgr_")

# A prefix and at least one base62 character: even part of a secret is kept
# out. JWT access tokens (RFC 9068) are a JSON header in base64url ("eyJ")
# followed by a payload: the header alone is not secret, header + payload is.
_SECRET = re.compile(r"(sg[ptsar]_)[0-9A-Za-z]+|(eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_.-]*")


def looks_like_secret(value: str) -> bool:
    """True when ``value`` holds a token or client secret (or the start of one)."""
    return bool(_SECRET.search(value))


def redact(text: str) -> str:
    """``text`` with every token-shaped part replaced by its prefix and ``[redacted]``."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


def printable(text: str) -> str:
    """``text`` without terminal control: C0/C1 controls and bidi/format
    characters become ``\\xNN``/``\\uNNNN`` escapes, so a hostile server cannot
    move the cursor, recolour, or reorder what the terminal shows."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
