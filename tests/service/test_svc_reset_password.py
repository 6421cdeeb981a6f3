"""An operator who lost the first-start passwords gets a working one back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from graders.cli import app
from service.db import make_engine, make_sessionmaker, migrate
from service.models import User
from service.security import hash_password, verify_password


def _admin(state_dir: Path) -> User:
    url = f"sqlite:///{state_dir}/dlgrade.db"
    migrate(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        user = s.scalars(select(User).where(User.email == "admin@localhost")).first()
        if user is None:
            user = User(email="admin@localhost", name="Administrator", role="admin",
                        password_hash=hash_password("the-lost-one"))
            s.add(user)
            s.commit()
    engine.dispose()
    return user


def test_reset_password_prints_one_that_signs_in_and_ends_old_tokens(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    before = _admin(tmp_path)
    result = CliRunner().invoke(app, ["reset-password", "Admin@localhost",
                                      "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    email, _, password = result.output.strip().partition("  password: ")
    assert email == "admin@localhost" and len(password) >= 12
    after = _admin(tmp_path)
    assert verify_password(password, after.password_hash)
    assert not verify_password("the-lost-one", after.password_hash)
    assert after.token_epoch == before.token_epoch + 1


def test_reset_password_of_an_unknown_account_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _admin(tmp_path)
    result = CliRunner().invoke(app, ["reset-password", "nobody@localhost",
                                      "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no account nobody@localhost" in result.output


def test_reset_password_with_a_mistyped_state_dir_creates_nothing(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    wrong = tmp_path / "dlgrade-dat"
    result = CliRunner().invoke(app, ["reset-password", "admin@localhost",
                                      "--state-dir", str(wrong)])
    assert result.exit_code == 1
    assert f"no database in {wrong}" in result.output
    assert not wrong.exists()
