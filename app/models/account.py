from app.models.base import db, now


class Account(db.Model):
    """A person: an ``admin`` (manages the organization) or a ``member``.
    Signs in to the dashboard; may hold personal tokens."""

    __tablename__ = "account"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organization.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    #: The unique ID every token and audit event refers to (``sub``).
    uid = db.Column(db.String(120), nullable=False, unique=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    #: ``admin`` or ``member`` (``services.people.ROLES``).
    role = db.Column(db.String(20), nullable=False, default="admin")
    #: argon2id hash; NULL when the account has no password (token-only admin).
    password_hash = db.Column(db.String(255))
    created_at = db.Column(db.Integer, nullable=False, default=now)
    #: Unique ID of who created the account (an admin, or ``operator``).
    created_by = db.Column(db.String(120))
    #: When the person accepted their invitation; NULL while it is pending.
    joined_at = db.Column(db.Integer)
    #: Set while the account is disabled: no sign-in, no live token or session.
    disabled_at = db.Column(db.Integer)

    org = db.relationship("Organization", lazy="joined")

    @property
    def name(self) -> str:
        return self.email

    user_type = "human"

    @property
    def status(self) -> str:
        """``disabled``, ``invited`` (link not used yet) or ``active``."""
        if self.disabled_at is not None:
            return "disabled"
        return "invited" if self.joined_at is None else "active"
