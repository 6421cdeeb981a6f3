"""All service configuration in one place, read from the environment when asked.

Nothing here runs at import time: callers build ``Settings()`` (or pass
values explicitly in tests) and hand it to ``create_app`` / ``create_celery``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class Settings(BaseSettings):
    """``DLGRADE_*`` variables, plus the conventional ``DATABASE_URL`` and ``REDIS_URL``."""

    model_config = SettingsConfigDict(env_prefix="DLGRADE_", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, validation_alias=AliasChoices(
        "DATABASE_URL", "DLGRADE_DATABASE_URL", "database_url"))
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "DLGRADE_REDIS_URL", "redis_url"))
    # The service's own state (SQLite database, JWT key, submissions by default).
    # Not DLGRADE_DATA_DIR: that one is where the engine keeps data sets.
    state_dir: Path = Path("dlgrade-data")
    submissions_path: Path | None = None
    secret_key: SecretStr | None = None
    access_token_minutes: int = 30
    # The pages' session cookie: how long a browser stays logged in.
    session_hours: float = Field(12.0, gt=0)

    # Uploads: refuse early with a reason rather than fill the disk.
    max_files: int = 20
    max_file_bytes: int = 20 * MiB
    max_upload_bytes: int = 50 * MiB
    # Reading an upload before accepting it (service/services/intake_gate.py): at most this
    # many at once per API process (0: one per CPU), waiting at most intake_wait_s for a turn;
    # after intake_refusals refused uploads within intake_refusal_window_s a student waits.
    intake_concurrency: int = Field(0, ge=0)
    intake_wait_s: float = Field(20.0, ge=0)
    intake_refusals: int = Field(10, ge=1)
    intake_refusal_window_s: float = Field(600.0, gt=0)

    # Grading: the engine entry point is an import path so tests and workers
    # in other processes can swap it without touching the code.
    grader: str = "service.grading:EngineGrader"
    sandbox: bool = True
    # Sandboxes each worker process keeps started ahead of the next submission (0: none).
    warm_sandboxes: int = 1
    # Pooled sandboxes also pre-import the heavy libraries (matplotlib, scipy, scikit-learn,
    # torch...) that recent uploads imported more than once (graders/sandbox/pool.py).
    warm_adaptive: bool = True
    # Pooled sandboxes are forked from a template that paid the imports once per worker
    # process (graders/sandbox/forkserver.py); false: each is started by bubblewrap.
    fork_server: bool = True
    # The trusted grading process (not the sandbox) may use this much memory; past it the job
    # ends as a grader-limit error and the worker carries on. 0: grade in the worker itself.
    grader_memory_limit_mb: int = Field(3072, ge=0)
    split_training: bool = True
    # Training problems get a job of their own only when their recent measured time is longer
    # than this: a second job loads the submission a second time, which costs more than a
    # short training run. With nothing measured yet they are split.
    split_training_over_s: float = Field(10.0, ge=0)
    # Workers announce each committed result (over Redis pub/sub, or in-process when
    # embedded) so the live pages and long polls answer at once instead of on their timer.
    live_announce: bool = True
    lease_seconds: float = 60.0
    max_tries: int = 3
    resend_after_seconds: float = 300.0
    # A job never picked up is re-sent with exponential back-off; after this long in the
    # queue it is an infrastructure error the instructor sees.
    max_queued_hours: float = 24.0
    sweep_interval_seconds: float = 15.0
    longest_grading_seconds: int = 2 * 3600
    queue_prefix: str = "dlgrade"
    worker_metrics_port: int | None = None

    # Course bundles (a course's own assignments): stored by content hash where every worker
    # reads them. A bundle is trusted code that runs in the grader, so by default only
    # admins publish; with this on, a course's instructors may publish for it alone.
    bundles_path: Path | None = None
    instructors_publish_bundles: bool = False
    max_bundle_bytes: int = 20 * MiB
    # A bundle's strength check runs in a child under the memory ceiling, for at most this long.
    bundle_check_seconds: float = Field(3600.0, gt=0)

    log_level: str = "INFO"
    log_json: bool = True
    demo: bool = True
    demo_assignment: str = "radboud-dl-a1"  # needs no data set download

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        """A short HMAC key makes every token guessable offline; refuse it at start-up."""
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError(
                f"DLGRADE_SECRET_KEY is {len(v.get_secret_value())} characters; it must be at "
                "least 32 (make one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')")
        return v

    @field_validator("database_url")
    @classmethod
    def _driver(cls, v: str | None) -> str | None:
        """Plain ``postgresql://`` URLs (as Docker images print them) use psycopg 3."""
        if v and v.startswith(("postgres://", "postgresql://")):
            return "postgresql+psycopg://" + v.split("://", 1)[1]
        return v

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.state_dir / 'dlgrade.db').resolve()}"

    @property
    def embedded(self) -> bool:
        """No broker configured: grade in a thread of the API process."""
        return not self.redis_url

    @property
    def submissions_dir(self) -> Path:
        """Uploaded files; the API writes them and every worker reads them (a shared volume)."""
        return self.submissions_path or self.state_dir / "submissions"

    @property
    def bundles_dir(self) -> Path:
        """Where course bundles are kept, one zip per content hash (shared with workers)."""
        return self.bundles_path or self.state_dir / "bundles"

    @property
    def visibility_timeout(self) -> int:
        """Redis redelivers unacked tasks after this: keep it above the longest grading
        (or bundle check)."""
        return int(max(self.longest_grading_seconds, self.bundle_check_seconds) * 1.5) + 600

    def queue(self, kind: str) -> str:
        """Queue names: ``grading`` (fresh quick checks), ``training``, ``regrade``."""
        return f"{self.queue_prefix}.{kind}"

    def resolved_secret(self) -> str:
        """The JWT key; embedded mode keeps a generated one in the data dir across restarts."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.state_dir / "secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
