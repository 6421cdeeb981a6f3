"""Logging in (OAuth2 password flow), API tokens for scripts, and accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from service import schemas as S
from service.deps import DB, Ctx, CurrentUser, require_admin
from service.models import ApiToken, User, utcnow
from service.security import create_access_token, hash_password, new_api_token, verify_password
from service.services.accounts import revoke_tokens, set_password

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=S.Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], ctx: Ctx, session: DB) -> S.Token:
    """Sign in with email and password (OAuth2 password form); the answer's bearer token
    lasts ``expires_in`` seconds."""
    user = session.scalars(select(User).where(User.email == form.username.lower())).first()
    if user is None or not user.is_active or not verify_password(form.password,
                                                                 user.password_hash):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email or password",
                            headers={"WWW-Authenticate": "Bearer"})
    minutes = ctx.settings.access_token_minutes
    return S.Token(access_token=create_access_token(user.id, ctx.secret, minutes,
                                                    user.token_epoch),
                   expires_in=minutes * 60)


@router.get("/users/me", response_model=S.UserOut)
def me(user: CurrentUser) -> User:
    """Who you are signed in as: your account and its role."""
    return user


@router.put("/users/me/password", status_code=204)
def change_password(body: S.PasswordChange, user: CurrentUser, session: DB) -> None:
    """Change your password; every token issued before, on any device, stops working."""
    if not verify_password(body.current_password, user.password_hash):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the current password is wrong")
    set_password(session, user, body.new_password)
    session.commit()


@router.post("/users", response_model=S.UserOut, status_code=201,
             dependencies=[Depends(require_admin)])
def create_user(body: S.UserCreate, session: DB) -> User:
    """Create an account (administrators only); instructors add students with the roster or
    one enrollment instead."""
    if session.scalars(select(User).where(User.email == body.email.lower())).first():
        raise HTTPException(status.HTTP_409_CONFLICT, f"{body.email} already has an account")
    user = User(email=body.email.lower(), name=body.name, role=body.role,
                password_hash=hash_password(body.password))
    session.add(user)
    session.commit()
    return user


@router.patch("/users/{user_id}", response_model=S.UserOut)
def update_user(user_id: int, body: S.UserUpdate, admin: Annotated[User, Depends(require_admin)],
                session: DB) -> User:
    """Disable (or enable again) an account; disabling revokes every token it holds."""
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")
    if body.is_active is not None and body.is_active != user.is_active:
        if not body.is_active and user.id == admin.id:
            raise HTTPException(status.HTTP_409_CONFLICT, "you cannot disable your own account")
        user.is_active = body.is_active
        if not body.is_active:
            revoke_tokens(session, user)
    session.commit()
    return user


@router.post("/auth/api-tokens", response_model=S.ApiTokenCreated, status_code=201)
def create_api_token(body: S.ApiTokenCreate, user: CurrentUser, session: DB) -> S.ApiTokenCreated:
    """A long-lived token for scripts (e.g. an LMS sync); it is shown once in this answer
    and only its hash is kept."""
    token, digest = new_api_token()
    row = ApiToken(user_id=user.id, name=body.name, token_hash=digest)
    session.add(row)
    session.commit()
    return S.ApiTokenCreated(id=row.id, name=row.name, created_at=row.created_at, token=token)


@router.get("/auth/api-tokens", response_model=list[S.ApiTokenOut])
def list_api_tokens(user: CurrentUser, session: DB) -> list[ApiToken]:
    """Your long-lived API tokens that are not revoked (never the tokens themselves, which
    are shown once)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                       ApiToken.revoked_at.is_(None))))


@router.delete("/auth/api-tokens/{token_id}", status_code=204)
def revoke_api_token(token_id: int, user: CurrentUser, session: DB) -> None:
    """Revoke one of your API tokens; it stops working at once."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API token {token_id}")
    row.revoked_at = utcnow()
    session.commit()
