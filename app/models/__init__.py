"""Where rows are stored. Models hold columns and small facts about a row;
the rules that decide what may happen to a row live in ``app.services``."""

from app.models.account import Account
from app.models.app_client import App, AppClient, AppSnapshot
from app.models.audit import AuditEvent
from app.models.authorization_code import AuthorizationCode
from app.models.base import db, now
from app.models.clients import (
    MachineUser,
    MachineUserClient,
    MachineUserSnapshot,
    ResourceServer,
    ResourceServerSnapshot,
)
from app.models.consent import Consent
from app.models.org import Organization
from app.models.setup_code import SetupCode
from app.models.signing_key import SigningKey
from app.models.token import IssuedToken, Token, TokenSnapshot
from app.models.web_session import WebSession

__all__ = [
    "db", "now", "Organization", "Account", "MachineUser", "ResourceServer",
    "MachineUserClient", "MachineUserSnapshot", "ResourceServerSnapshot",
    "Token", "TokenSnapshot", "IssuedToken", "AuditEvent", "SigningKey", "WebSession", "SetupCode",
    "App", "AppClient", "AppSnapshot", "AuthorizationCode", "Consent",
]
