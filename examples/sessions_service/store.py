"""Sessions and models in memory, per organization."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field


@dataclass
class Session:
    id: str
    owner: str
    org: str
    state: str = "created"
    model: str | None = None

    def public(self) -> dict:
        body = asdict(self)
        del body["org"]
        return body


@dataclass
class Store:
    sessions: dict[str, Session] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def add_session(self, owner: str, org: str) -> Session:
        with self.lock:
            session = Session(self.new_id("s"), owner, org)
            self.sessions[session.id] = session
            return session

    def find(self, session_id: str, org: str) -> Session | None:
        """A session of this organization (another organization's is unknown)."""
        session = self.sessions.get(session_id)
        return session if session is not None and session.org == org else None

    def remove(self, session_id: str) -> None:
        with self.lock:
            self.sessions.pop(session_id, None)
