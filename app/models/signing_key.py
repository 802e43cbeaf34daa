from app.models.base import db, now


class SigningKey(db.Model):
    """A JOSE signing key. The newest is used to sign; the previous one stays
    published in the JWKS so signatures made before a rotation still verify."""

    __tablename__ = "signing_key"

    id = db.Column(db.Integer, primary_key=True)
    kid = db.Column(db.String(64), nullable=False, unique=True)
    #: Private JWK, encrypted with a key derived from SCOPEGATE_SECRET_KEY (services.keys).
    private_jwk = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    retired_at = db.Column(db.Integer)
