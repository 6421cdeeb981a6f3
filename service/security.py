"""Passwords (argon2), short-lived JWT access tokens and long-lived API tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_TOKEN_PREFIX = "dlg_"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(user_id: int, secret: str, minutes: int, epoch: int = 0) -> str:
    """A JWT for ``user_id``, valid until it expires or the user's token epoch moves on."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes),
              "typ": "access", "ep": epoch}
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_access_token(token: str, secret: str) -> tuple[int, int] | None:
    """``(user id, token epoch)``, or None for an expired, forged or foreign token.

    Tokens issued before epochs existed carry none and count as epoch 0.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access":
        return None
    try:
        return int(claims["sub"]), int(claims.get("ep", 0))
    except (KeyError, TypeError, ValueError):
        return None


def new_api_token() -> tuple[str, str]:
    """A token to show once, and the hash to store. High entropy, so sha256 suffices."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(12)
