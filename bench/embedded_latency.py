"""Upload to final result of a real notebook on the embedded service (issue 13).

Exactly the README's ``dlgrade serve`` (SQLite, the worker in the same process,
no Redis), started twice in empty folders: once as the service was before issue
13 (training in a job of its own, no learned imports, results found by the long
poll's timer) and once with the defaults. The demo student uploads radboud-dl-a1's
``correct_notebook.ipynb`` one at a time, each waited for until final, with a
pause between uploads so each meets an idle service; the first four are warm-ups.

    python -m bench --only embedded
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Figure

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests/assignments/radboud_dl_a1/submissions/correct_notebook.ipynb"
BEFORE = {"DLGRADE_WARM_ADAPTIVE": "false", "DLGRADE_SPLIT_TRAINING_OVER_S": "0",
          "DLGRADE_LIVE_ANNOUNCE": "false"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(cond: object, timeout: float) -> None:
    import httpx

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("dlgrade serve did not answer")


def _token(url: str, log: Path, who: str) -> str:
    import httpx

    password = re.search(rf"{who}@localhost\s+password: (\S+)", log.read_text())
    assert password, log.read_text()
    return str(httpx.post(f"{url}/api/v1/auth/token", data={
        "username": f"{who}@localhost", "password": password.group(1)}).json()["access_token"])


def _serve_and_time(env: dict[str, str], n: int, settle: float) -> list[float]:
    import httpx

    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-embedded-") as tmp:
        port, log = _free_port(), Path(tmp) / "serve.log"
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith("DLGRADE_") and k not in ("DATABASE_URL", "REDIS_URL")}
        environ.update(env, PYTHONPATH=str(ROOT))
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "graders.cli", "serve", "--port",
                                     str(port)], env=environ, cwd=tmp, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _until(lambda: httpx.get(f"{url}/healthz").status_code == 200, 90)
            admin = {"Authorization": f"Bearer {_token(url, log, 'admin')}"}
            student = {"Authorization": f"Bearer {_token(url, log, 'student')}"}
            (course,) = httpx.get(f"{url}/api/v1/courses", headers=admin).json()
            (a,) = httpx.get(f"{url}/api/v1/courses/{course['id']}/assignments",
                             headers=admin).json()
            httpx.patch(f"{url}/api/v1/assignments/{a['id']}", headers=admin,
                        json={"max_submissions": None, "min_interval_seconds": 0})
            times = []
            with httpx.Client(timeout=60) as client:
                for i in range(n + 4):
                    t = time.perf_counter()
                    r = client.post(f"{url}/api/v1/assignments/{a['id']}/submissions",
                                    headers=student,
                                    files={"files": (NOTEBOOK.name, NOTEBOOK.read_bytes())})
                    assert r.status_code == 201, r.text
                    wait = f"{url}/api/v1/submissions/{r.json()['id']}/wait?final=true&timeout=20"
                    while client.get(wait, headers=student).json()["status"] not in (
                            "graded", "error"):
                        pass
                    if i >= 4:
                        times.append(time.perf_counter() - t)
                    time.sleep(settle)
            return times
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def run(n: int = 8, settle: float = 3.0) -> list[Figure]:
    before = _serve_and_time(BEFORE, n, settle)
    after = _serve_and_time({}, n, settle)
    b, a = statistics.median(before), statistics.median(after)
    return [Figure("embedded notebook upload->final", a, b, "s", "<= 0.8 s (issue 13)", a <= 0.8,
                   f"median of {n}, `dlgrade serve` on SQLite; max {max(after):.2f} s vs "
                   f"{max(before):.2f} s; baseline: training in a second job, no learned "
                   "imports, results found by the timer")]


def measure() -> list[Figure]:
    return run()


if __name__ == "__main__":
    for fig in run():
        print(fig.row(), flush=True)
