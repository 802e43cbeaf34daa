from app.models.base import db, now, sparse_index


class AuditEvent(db.Model):
    """One recorded action, or a run of identical refused ones.

    Successful actions are one row each and never change. A refused action
    repeated from one source (same action, target, address and reason; see
    ``services.audit``) within the aggregation window is one row whose
    ``count`` grows and whose ``last_at`` moves: a flood costs one row a
    minute, and the count survives.

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
        # The open aggregate of a refused-event source; retention deletes by time.
        # (Successful events have no source: sparse, migration 0008.)
        sparse_index("ix_audit_source", "source", "id"),
        db.Index("ix_audit_at", "at"),
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
    #: How many identical refused attempts this row stands for (1 for every success).
    count = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    #: When the last of them happened (NULL while ``count`` is 1).
    last_at = db.Column(db.Integer)
    #: Digest naming a refused event's source, to find its open aggregate (NULL on successes).
    source = db.Column(db.String(32))
