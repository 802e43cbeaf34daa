from app.models.base import db, now


class SetupCode(db.Model):
    """A one-time link code. Without an account it is the first-run code (it
    lets one person create the organization and the first admin); with one it
    is that person's invitation or password-reset link (``purpose``). Only its
    digest is stored; it expires, and dies once used (``used_at``)."""

    __tablename__ = "setup_code"

    id = db.Column(db.Integer, primary_key=True)
    code_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False)
    used_at = db.Column(db.Integer)
    #: ``setup`` (first run), ``invite`` or ``reset``.
    purpose = db.Column(db.String(10), nullable=False, default="setup", server_default="setup")
    account_id = db.Column(db.ForeignKey("account.id", ondelete="CASCADE"), index=True)
