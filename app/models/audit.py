from app.models.base import db, now


class AuditEvent(db.Model):
    """One recorded action. Rows are only ever inserted.

    ``actor`` is the unique ID of who acted, ``subject`` the unique ID of the
    user the event concerns; both are plain strings so events outlive the
    users they mention.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        db.Index("ix_audit_org_id", "org_id", "id"),
        db.Index("ix_audit_org_actor", "org_id", "actor", "id"),
        db.Index("ix_audit_org_subject", "org_id", "subject", "id"),
        db.Index("ix_audit_org_action", "org_id", "action", "id"),
        # `user=<name>` finds the unique IDs a (possibly deleted) user had by name.
        db.Index("ix_audit_org_subject_name", "org_id", "subject_name"),
    )

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.Integer, nullable=False, default=now)
    #: NULL for events that belong to no organization (an unknown client).
    org_id = db.Column(db.ForeignKey("organization.id", ondelete="CASCADE"))
    actor = db.Column(db.String(254))
    actor_name = db.Column(db.String(254))
    subject = db.Column(db.String(254))
    #: Name of the subject when the event happened (names outlive deleted users here).
    subject_name = db.Column(db.String(254))
    action = db.Column(db.String(40), nullable=False)
    target = db.Column(db.String(254))
    outcome = db.Column(db.String(10), nullable=False)
    ip = db.Column(db.String(45))
    request_id = db.Column(db.String(64))
    detail = db.Column(db.String(500))
