"""Client authentication for the token, introspection and revocation endpoints.

``client_secret_basic`` is Authlib's, wrapped so that every failure is
audited and an unknown client fails exactly like a wrong secret (no client
enumeration). ``bearer`` lets an admin's personal token, or a machine user's
scoped token, call introspection/revocation (RFC 7662 §2.1 allows bearer
authorization); what it may then see is decided in ``services.reach``.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidClientError, UnauthorizedClientError
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from app.models import MachineUserClient
from app.services import audit, callers, reach, tokens
from app.services.callers import Caller


class BearerCaller:
    """A token holder presented to Authlib as if it were a client."""

    def __init__(self, caller: Caller):
        self.caller = caller

    def get_client_id(self) -> str:
        return self.caller.uid

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "bearer" and endpoint in ("introspection", "revocation")


def caller_of(client) -> Caller:
    """The services-layer caller behind whatever authenticated."""
    if isinstance(client, BearerCaller):
        return client.caller
    return callers.from_client(client)


#: Stands for a Basic client id that is not UTF-8 (never a real client id).
NOT_UTF8 = "(not UTF-8)"


def basic_credentials(headers) -> tuple[str | None, str | None]:
    """(client_id, secret) of an HTTP Basic header. RFC 7617 §2.1 credentials
    are UTF-8; Authlib lets the decoding error escape (a 500), so a header that
    is not UTF-8 names the client :data:`NOT_UTF8` with no secret. A scheme
    followed only by spaces (``"Basic "``) makes Authlib's split fail (a 500
    too): that is no credentials."""
    try:
        return extract_basic_authorization(headers)
    except UnicodeDecodeError:
        return NOT_UTF8, None
    except ValueError:
        return None, None


def client_secret_basic(query_client, request):
    client_id, secret = basic_credentials(request.headers)
    if not client_id:
        return None
    client = query_client(client_id)
    if client is not None and secret and client.check_client_secret(secret):
        return client
    is_user = isinstance(client, MachineUserClient)
    audit.record("client.auth", audit.DENIED,
                 org_id=client.org_id if is_user else None,
                 subject=client.client_id if is_user else None,
                 subject_name=client.name if is_user else None,
                 target=client_id[:254] if client_id.isprintable() else "(unprintable)",
                 detail="bad client credentials", commit=True)
    return None


def bearer(query_client, request):
    header = request.headers.get("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = tokens.authenticate(value.strip())
    if token is None:
        return None
    tokens.mark_used(token)
    return BearerCaller(callers.from_token(token))


def resource_server(query_client, request) -> Caller:
    """The resource server behind ``client_secret_basic`` credentials, for
    endpoints only resource servers may call (the revocation feed). Bearer
    tokens, admins' included, are not client authentication here."""
    client = client_secret_basic(query_client, request)
    if client is None:
        raise InvalidClientError(status_code=401, description="Resource-server "
                                 "credentials (client_secret_basic) are required.")
    caller = callers.from_client(client)
    if not reach.may_read_revocations(caller):
        audit.record("revocations.read", audit.DENIED, actor=caller,
                     detail="not a resource server", commit=True)
        raise UnauthorizedClientError(status_code=403,
                                      description="Only resource servers read this feed.")
    return caller
