"""``dlgrade serve`` and ``dlgrade worker``; the main CLI mounts them with :func:`register`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.settings import Settings


def _settings(state_dir: Path | None) -> Settings:
    return Settings(state_dir=state_dir) if state_dir else Settings()


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
        state_dir: Annotated[Path | None, typer.Option(
            help="SQLite database, submissions and JWT key; default ./dlgrade-data")] = None,
    ) -> None:
        """Run the grading service. With no configuration: SQLite and an in-process worker.

        Set DATABASE_URL and REDIS_URL to use PostgreSQL and Celery workers instead.
        """
        import uvicorn

        from service.app import create_app
        from service.bootstrap import bootstrap
        from service.db import migrate
        from service.logs import configure_logging
        from service.serving import AnnouncingServer

        settings = _settings(state_dir)
        configure_logging(settings.log_level, settings.log_json)
        migrate(settings.db_url)
        api = create_app(settings)
        first = bootstrap(api.state.ctx, demo=settings.demo)
        mode = "embedded worker, SQLite" if settings.embedded else "Celery workers via Redis"
        banner = [] if first is None else [
            "First start: created these accounts (shown once, change the passwords):",
            f"  admin    {first.admin_email}  password: {first.admin_password}",
            f"  student  {first.student_email}  password: {first.student_password}",
            f"  demo course id {first.course_id}, assignment id {first.assignment_id}",
            "  (lost them? `dlgrade reset-password EMAIL` prints a new one)", ""]
        banner.append(f"serving on http://{host}:{port} ({mode}); API docs at /docs")
        config = uvicorn.Config(api, host=host, port=port, log_config=None)
        AnnouncingServer(config, "\n" + "\n".join(banner) + "\n").run()

    @app.command("reset-password")
    def reset_password(
        email: Annotated[str, typer.Argument(help="the account, e.g. admin@localhost")],
        state_dir: Annotated[Path | None, typer.Option(
            help="as given to serve; default ./dlgrade-data")] = None,
    ) -> None:
        """Give an account a new password, printed once; its tokens and sessions stop working.

        For the operator who lost the first-start passwords (they are printed only once).
        Runs against the same database as ``serve`` (DATABASE_URL, or the state directory).
        """
        from sqlalchemy import select
        from sqlalchemy.exc import DBAPIError

        from service.db import make_engine, make_sessionmaker
        from service.models import User
        from service.security import generate_password
        from service.services.accounts import set_password

        settings = _settings(state_dir)
        if not settings.database_url and not (settings.state_dir / "dlgrade.db").exists():
            # Not migrate(): a mistyped --state-dir must not leave an empty database behind.
            typer.echo(f"no database in {settings.state_dir}: give the --state-dir (or "
                       "DATABASE_URL) that `dlgrade serve` uses", err=True)
            raise typer.Exit(1)
        engine = make_engine(settings.db_url)
        try:
            with make_sessionmaker(engine)() as session:
                try:
                    user = session.scalars(select(User).where(
                        User.email == email.lower())).first()
                except DBAPIError:
                    typer.echo("this database has no dlgrade accounts: start `dlgrade serve` "
                               "on it once", err=True)
                    raise typer.Exit(1) from None
                if user is None:
                    typer.echo(f"no account {email} in this database (DATABASE_URL or --state-dir)",
                               err=True)
                    raise typer.Exit(1)
                password = generate_password()
                set_password(session, user, password)
                session.commit()
        finally:
            engine.dispose()
        typer.echo(f"{user.email}  password: {password}")

    @app.command()
    def worker(
        queues: Annotated[str, typer.Option(
            help="comma-separated: grading, training, regrade")] = "grading,training,regrade",
        concurrency: Annotated[int, typer.Option(help="gradings at a time")] = 1,
        sweep: Annotated[bool, typer.Option(help="also run the periodic sweep")] = True,
    ) -> None:
        """Run a Celery worker (needs REDIS_URL and DATABASE_URL)."""
        from service.worker import run_worker

        settings = Settings()
        if not settings.redis_url:
            raise typer.BadParameter("set REDIS_URL (and DATABASE_URL) to run a worker")
        run_worker(settings, [q.strip() for q in queues.split(",") if q.strip()], concurrency,
                   sweep)
