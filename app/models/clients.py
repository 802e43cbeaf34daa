"""OAuth clients: machine users (one per organization member program) and
resource servers (platform services that introspect).

Both implement Authlib's ``ClientMixin`` by hand rather than through
``OAuth2ClientMixin``: that mixin compares secrets in plaintext and stores
metadata we do not use. Secrets are stored as SHA-256 digests (they are
high-entropy, so a slow password hash would only cost CPU) and compared in
constant time.
"""

import hmac

from authlib.oauth2.rfc6749 import ClientMixin

from app.models.base import Snapshot, db, now
from app.services.secrets import digest


class _SecretClient(ClientMixin):
    """Confidential client facts shared by both kinds."""

    client_secret_hash: str | None

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_hash:
            return False
        return hmac.compare_digest(self.client_secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def get_default_redirect_uri(self):
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_response_type(self, response_type: str) -> bool:
        return False


class MachineUserClient(_SecretClient):
    """What the OAuth layer knows of a machine user, whether it was loaded
    as a ``MachineUser`` row or as a :class:`MachineUserSnapshot`."""

    user_type = "generated"
    role = "machine"

    @property
    def uid(self) -> str:
        return self.client_id

    @property
    def email(self) -> str:
        return self.client_id

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str) -> str:
        # Never called by our grant (the ceiling rule lives in services.scopes);
        # defined because ClientMixin requires it.
        return scope


class ResourceServerClient(_SecretClient):
    """What the OAuth layer knows of a resource server: it introspects, reads
    the revocation feed, and revokes only if created with ``--may-revoke``."""

    def check_grant_type(self, grant_type: str) -> bool:
        return False

    def get_allowed_scope(self, scope: str) -> str:
        return ""


class MachineUser(MachineUserClient, db.Model):
    """A program acting for an organization; an OAuth confidential client."""

    __tablename__ = "machine_user"
    __table_args__ = (db.UniqueConstraint("org_id", "name", name="uq_machine_user_org_name"),)

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organization.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(100), nullable=False)
    #: The generated unique ID: also its ``email``, OAuth ``client_id`` and ``sub``.
    client_id = db.Column(db.String(120), nullable=False, unique=True)
    client_secret_hash = db.Column(db.String(64))
    #: Space-separated scope ceiling.
    scope = db.Column(db.Text, nullable=False)
    created_by = db.Column(db.String(120), nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    credentials_created_at = db.Column(db.Integer)

    org = db.relationship("Organization")


class ResourceServer(ResourceServerClient, db.Model):
    """A platform service allowed to introspect tokens of every organization."""

    __tablename__ = "resource_server"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False, unique=True)
    client_id = db.Column(db.String(120), nullable=False, unique=True)
    client_secret_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    #: Created with ``--may-revoke`` (incident-response tools): may revoke by
    #: value. Without it a resource server introspects and revokes nothing.
    may_revoke = db.Column(db.Boolean, nullable=False, default=False,
                           server_default=db.false())


class MachineUserSnapshot(Snapshot, MachineUserClient):
    """A machine user as ``query_client`` reads it for one OAuth request."""


class ResourceServerSnapshot(Snapshot, ResourceServerClient):
    """A resource server as ``query_client`` reads it for one OAuth request."""
