from app.models.base import db, now


class Consent(db.Model):
    """A person's remembered "yes" to an app: the scopes they agreed to share
    with it. A later request within these scopes asks nothing; one for more
    asks again. The person revokes it from "Connected apps"."""

    __tablename__ = "consent"
    __table_args__ = (db.UniqueConstraint("account_id", "client_id",
                                          name="uq_consent_account_client"),)

    id = db.Column(db.Integer, primary_key=True)
    account_id = db.Column(db.ForeignKey("account.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    client_id = db.Column(db.ForeignKey("app.client_id", ondelete="CASCADE"), nullable=False,
                          index=True)
    #: Space-separated scopes agreed to.
    scope = db.Column(db.Text, nullable=False)
    granted_at = db.Column(db.Integer, nullable=False, default=now)

    app = db.relationship("App", lazy="joined")

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()
