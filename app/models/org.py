from app.models.base import db, now


class Organization(db.Model):
    """A tenant. Every user, token and event belongs to exactly one."""

    __tablename__ = "organization"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False, unique=True)
    created_at = db.Column(db.Integer, nullable=False, default=now)
