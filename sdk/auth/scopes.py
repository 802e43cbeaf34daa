"""The scope catalog: the one definition the SDK, the CLI and the server share.

A scope is a ``StrEnum`` member, so ``Scope.create_session`` can be passed
wherever a scope string is expected (and compares equal to ``"create_session"``).
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """A permission a scoped token can carry."""

    create_session = "create_session"
    start_session = "start_session"
    custom_model = "custom_model"
    model_download = "model_download"
    cancel_user_session = "cancel_user_session"
    delete_user_session = "delete_user_session"
    read_user_session = "read_user_session"
    read_all_session = "read_all_session"
    cli = "cli"
    revoke_user_token = "revoke_user_token"  # noqa: S105 (a scope name, not a secret)

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]


DESCRIPTIONS: dict[Scope, str] = {
    Scope.create_session: "Allows a user to create a training session.",
    Scope.start_session: "Allows a user to start a training session that they have created.",
    Scope.custom_model: "Allows a user to upload and use a custom model.",
    Scope.model_download: "Allows a user to download a trained model.",
    Scope.cancel_user_session: (
        "Allows a user to cancel a session that they have created. "
        "This scope does not allow a user to cancel any other user's sessions."
    ),
    Scope.delete_user_session: (
        "Allows a user to delete a session that they have created. "
        "This scope does not allow a user to delete any other user's sessions."
    ),
    Scope.read_user_session: (
        "Allows a user to read a session that they have created. "
        "This scope does not allow a user to read any other user's sessions."
    ),
    Scope.read_all_session: "Allows a user to read a session created by any user.",
    Scope.cli: (
        "Allows a user to list versions and install the SDK and images through the CLI. "
        "Required if the user is going to work with the SDK directly."
    ),
    Scope.revoke_user_token: "Allows a user to revoke a token they have created.",
}

#: Catalog order, as documented.
CATALOG: tuple[str, ...] = tuple(s.value for s in Scope)

#: The reserved scope of an admin's personal (unscoped) token: full access
#: within its organization. Never grantable to a machine user.
ADMIN_SCOPE = "admin"
