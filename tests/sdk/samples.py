"""Sample answers of a Scopegate server, shared by the SDK's and the CLI's unit tests."""

from sdk.auth.scopes import CATALOG

BASE = "https://sg.test"
ADMIN_TOKEN = "sgp_" + "a" * 40
TOKEN_VALUE = "sgt_" + "s3cr3t" * 8
TOKEN_ID = "55a19b5d077d40a798aa51ace57168c3"
EMAIL = "f1bd9ff87c@sg.test"
USER = {
    "name": "demo-user",
    "email": EMAIL,
    "user_type": "generated",
    "scopes": list(CATALOG),
    "created_by": "admin@example.com",
    "created_at": "2024-05-01T12:00:00Z",
    "active": True,
}
TOKEN = {
    "token": TOKEN_VALUE,
    "token_id": TOKEN_ID,
    "user_id": "demo-user",
    "email": EMAIL,
    "scopes": ["create_session", "read_user_session"],
    "expires_at": "2024-05-31T12:00:00Z",
}
