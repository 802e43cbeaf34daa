from app.models.base import db, now


class WebSession(db.Model):
    """A signed-in dashboard session. The cookie holds a random session id;
    only its SHA-256 digest is stored, so a copy of the database cannot be
    replayed as a cookie. Deleting the row is what logging out means, and
    every process sees it on the next request.
    """

    __tablename__ = "web_session"

    id = db.Column(db.Integer, primary_key=True)
    sid_hash = db.Column(db.String(64), nullable=False, unique=True)
    account_id = db.Column(db.ForeignKey("account.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_seen_at = db.Column(db.Integer, nullable=False, default=now)
    ip = db.Column(db.String(45))
    #: A secret waiting to be shown once (a new token or client secret), encrypted
    #: with a key derived from the session id that only the cookie holds.
    pending_secret = db.Column(db.Text)

    account = db.relationship("Account", lazy="joined")
