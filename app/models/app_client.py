"""Apps: the OAuth clients people sign in to (a notebook hub, a model
registry UI). Registered by an admin of an organization; they serve only the
people of that organization (``services.reach``).

Implements Authlib's ``ClientMixin`` by hand, like the machine users: the
secret is stored as a digest, and redirect URIs match exactly.
"""

import hmac
import json

from authlib.oauth2.rfc6749 import ClientMixin

from app.models.base import Snapshot, db, now
from app.services.secrets import digest

#: Grants an app may use: people sign in with a code; ``offline_access`` gives a refresh token.
APP_GRANTS = frozenset({"authorization_code", "refresh_token"})


class AppClient(ClientMixin):
    """What the OAuth layer knows of an app, loaded as a row or a snapshot."""

    client_id: str
    client_secret_hash: str | None
    public: bool
    redirect_uris_json: str

    @property
    def redirect_uris(self) -> list[str]:
        return json.loads(self.redirect_uris_json)

    @property
    def uid(self) -> str:
        return self.client_id

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        if self.public or not self.client_secret_hash:
            return False
        return hmac.compare_digest(self.client_secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Public apps send only their client_id (and rely on PKCE) at the token
        # endpoint; confidential apps authenticate everywhere with their secret.
        if self.public:
            return method == "none" and endpoint == "token"
        return method in ("client_secret_basic", "client_secret_post")

    def get_default_redirect_uri(self):
        # No default: every authorization request names its redirect URI.
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match (RFC 9700 §4.1.3): no prefixes, no wildcards.
        return redirect_uri in self.redirect_uris

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in APP_GRANTS

    def get_allowed_scope(self, scope: str) -> str:
        # The scope rule lives in services.scopes (app_scopes); refused there, never narrowed.
        return scope or ""


class App(AppClient, db.Model):
    """A registered app of an organization."""

    __tablename__ = "app"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organization.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    #: ``app-`` + 16 hex characters: also its ``aud`` in ID tokens.
    client_id = db.Column(db.String(120), nullable=False, unique=True)
    name = db.Column(db.String(100), nullable=False)
    #: NULL for public apps (they have no secret).
    client_secret_hash = db.Column(db.String(64))
    public = db.Column(db.Boolean, nullable=False, default=False)
    #: The registered redirect URIs, a JSON list, matched exactly.
    redirect_uris_json = db.Column(db.Text, nullable=False)
    created_by = db.Column(db.String(120), nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    secret_rotated_at = db.Column(db.Integer)

    org = db.relationship("Organization")


class AppSnapshot(Snapshot, AppClient):
    """An app as ``query_client`` reads it for one OAuth request."""
