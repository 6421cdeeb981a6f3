"""Container health check for a worker: does the Celery worker on this host answer a ping?

``python -m service.healthcheck`` exits 0 when it does, 1 otherwise.
"""

from __future__ import annotations

import socket
import sys

from service.settings import Settings
from service.worker import create_celery


def worker_alive(settings: Settings, timeout: float = 5.0) -> bool:
    app = create_celery(settings)
    host = socket.gethostname()
    replies = app.control.ping(timeout=timeout) or []
    return any(name.endswith(f"@{host}") for reply in replies for name in reply)


if __name__ == "__main__":
    sys.exit(0 if worker_alive(Settings()) else 1)
