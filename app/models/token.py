from app.models.base import Snapshot, db, now, sparse_index


class TokenFacts:
    """What a token is, whether loaded as a ``Token`` row or a :class:`TokenSnapshot`."""

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    def is_expired(self, at: int | None = None) -> bool:
        return (now() if at is None else at) >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_active(self, at: int | None = None) -> bool:
        return not self.is_revoked() and not self.is_expired(at)

    @property
    def is_human(self) -> bool:
        """A person's token: their own personal token, or one an app holds for them."""
        return self.kind in ("personal", "app", "refresh")

    # Authlib's TokenMixin, for ResourceProtector.
    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, self.expires_at - now())

    def check_client(self, client) -> bool:
        return self.client_id is not None and self.client_id == client.get_client_id()


class Token(TokenFacts, db.Model):
    """An access token: a personal (unscoped) token of an admin, a scoped
    token of a machine user, or a person's access or refresh token held by an
    app (OpenID Connect sign-in; ``account_id`` and ``client_id`` say whose
    and which app's). Only the SHA-256 digest of the value is stored.

    Who the token belongs to is denormalised (``subject_uid``,
    ``subject_name``) so that introspection is one indexed read, and so that
    the row survives, revoked, after its machine user is deleted.
    """

    __tablename__ = "token"
    __table_args__ = (
        db.Index("ix_token_org_created", "org_id", "id"),
        db.Index("ix_token_subject", "subject_uid"),
        # Sparse columns (NULL for every scoped token) are indexed only where set:
        # issuance writes no entry for them (migration 0008).
        sparse_index("ix_token_family", "family_id"),
        db.Index("ix_token_client", "client_id"),
        sparse_index("ix_token_account", "account_id"),
        # The revocation feed reads revoked rows in (revoked_at, id) order.
        sparse_index("ix_token_revoked", "revoked_at", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    #: Public, non-secret handle (32 hex chars) used by listing, revoking, audit.
    token_id = db.Column(db.String(32), nullable=False, unique=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    #: "personal" | "scoped" | "app" (a person's access token held by an app) | "refresh"
    kind = db.Column(db.String(10), nullable=False)
    #: How the value looks: "opaque" (``sgt_…``) or "jwt" (RFC 9068, its
    #: expiry signed into it, so it cannot be renewed).
    format = db.Column(db.String(8), nullable=False, default="opaque",
                       server_default="opaque")
    org_id = db.Column(db.ForeignKey("organization.id", ondelete="CASCADE"), nullable=False)
    account_id = db.Column(db.ForeignKey("account.id", ondelete="SET NULL"))
    machine_user_id = db.Column(db.ForeignKey("machine_user.id", ondelete="SET NULL"),
                                index=True)
    subject_uid = db.Column(db.String(120), nullable=False)
    subject_name = db.Column(db.String(254), nullable=False)
    #: The OAuth client the token was issued to (machine user's client_id), if any.
    client_id = db.Column(db.String(120))
    #: Unique ID of who created it: an admin, or the machine user itself
    #: (client_credentials).
    created_by = db.Column(db.String(120), nullable=False)
    name = db.Column(db.String(100))
    scope = db.Column(db.Text, nullable=False, default="")
    issued_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False)
    revoked_at = db.Column(db.Integer)
    last_used_at = db.Column(db.Integer)
    #: Tokens an app got from one sign-in (one code redemption and every
    #: refresh after it) share a family: reuse of a spent code or refresh
    #: token revokes the whole family.
    family_id = db.Column(db.String(32))
    #: The refresh token this one was rotated from (its ``token_id``).
    parent_token_id = db.Column(db.String(32))
    #: When the person signed in (``auth_time`` of the ID tokens of the family).
    auth_time = db.Column(db.Integer)

    org = db.relationship("Organization", lazy="joined")

    @property
    def org_name(self) -> str:
        return self.org.name


class TokenSnapshot(Snapshot, TokenFacts):
    """A token as ``tokens.find`` reads it by value (introspection, revocation,
    bearer authentication): the row's columns plus ``org_name``."""


class IssuedToken(Snapshot, TokenFacts):
    """A token as ``tokens`` just inserted it (its columns, no ``id``), for the
    answer that shows its value once: a plain object, since building an ORM
    instance that is never added to a session was about a tenth of an issuance's
    CPU (bench/RESULTS.md §16)."""

