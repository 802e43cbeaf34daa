from app.models.base import db, now


class Account(db.Model):
    """A person (an admin). Logs in to the dashboard; owns personal tokens."""

    __tablename__ = "account"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organization.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    #: The unique ID every token and audit event refers to (``sub``).
    uid = db.Column(db.String(120), nullable=False, unique=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    role = db.Column(db.String(20), nullable=False, default="admin")
    #: argon2id hash; NULL when the account has no password (token-only admin).
    password_hash = db.Column(db.String(255))
    created_at = db.Column(db.Integer, nullable=False, default=now)

    org = db.relationship("Organization", lazy="joined")

    @property
    def name(self) -> str:
        return self.email

    user_type = "human"
