from authlib.oidc.core import AuthorizationCodeMixin

from app.models.base import db, now


class AuthorizationCode(AuthorizationCodeMixin, db.Model):
    """A code handed to an app through the person's browser. Only its digest
    is stored; it lives at most 60 s, is bound to its app, redirect URI and
    PKCE challenge, and is single-use: ``used_at`` is set by the redemption,
    and the row is kept (until it expires) so that a second redemption can
    be recognised and the tokens of the first (``family_id``) revoked."""

    __tablename__ = "authorization_code"

    id = db.Column(db.Integer, primary_key=True)
    code_hash = db.Column(db.String(64), nullable=False, unique=True)
    client_id = db.Column(db.ForeignKey("app.client_id", ondelete="CASCADE"), nullable=False,
                          index=True)
    account_id = db.Column(db.ForeignKey("account.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    redirect_uri = db.Column(db.Text, nullable=False)
    scope = db.Column(db.Text, nullable=False, default="")
    nonce = db.Column(db.String(255))
    code_challenge = db.Column(db.String(128), nullable=False)
    code_challenge_method = db.Column(db.String(10), nullable=False)
    #: When the person last proved who they are (the ID token's ``auth_time``).
    auth_time = db.Column(db.Integer, nullable=False)
    issued_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False)
    used_at = db.Column(db.Integer)
    #: The token family its redemption started (revoked if the code comes back).
    family_id = db.Column(db.String(32))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time
