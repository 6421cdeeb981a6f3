"""Accounts: what changing who may sign in does to the tokens already handed out."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.models import ApiToken, User, utcnow
from service.security import hash_password


def revoke_tokens(session: Session, user: User) -> None:
    """Every access token issued so far and every API token of ``user`` stop working.

    Used when the password changes or an admin disables the account: a stolen
    token must not outlive the password it was obtained with.
    """
    user.token_epoch += 1
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                           ApiToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password, and every token obtained with the old one stops working."""
    user.password_hash = hash_password(password)
    revoke_tokens(session, user)
