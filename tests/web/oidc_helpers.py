"""Helpers for the OpenID Connect tests: PKCE pairs, an authorization
request as a relying party builds it, and reading a redirect's parameters."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

REDIRECT = "https://rp.example.com/callback"


def pkce() -> tuple[str, str]:
    """A (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_url(client_id: str, challenge: str | None = None, *, redirect_uri=REDIRECT,
                  scope="openid email profile", state="st-123", method="S256",
                  **extra) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": state}
    if challenge is not None:
        params["code_challenge"] = challenge
        if method:
            params["code_challenge_method"] = method
    params.update({k: v for k, v in extra.items() if v is not None})
    return "/oauth/authorize?" + urlencode(params)


def params_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect (single values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def base_of(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
