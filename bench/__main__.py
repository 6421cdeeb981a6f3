"""python -m bench [--only NAME...]: every figure beside its baseline; a JSON summary too."""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from . import (
    cold_cli,
    embedded_latency,
    gradcheck,
    grading,
    isolation,
    notebook_latency,
    sandbox_overhead,
    service_throughput,
    warm,
)

SUITES = {"sandbox": sandbox_overhead.measure, "grading": grading.measure,
          "gradcheck": gradcheck.measure, "warm": warm.measure, "isolation": isolation.measure,
          "service": service_throughput.measure, "cold": cold_cli.measure,
          "notebook": notebook_latency.measure, "embedded": embedded_latency.measure}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), default=None)
    parser.add_argument("--json", type=Path, default=Path("bench/results/latest.json"))
    args = parser.parse_args()
    figures = []
    for name, measure in SUITES.items():
        if args.only and name not in args.only:
            continue
        for fig in measure():
            print(fig.row(), flush=True)
            figures.append(fig)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "figures": [f.to_json() for f in figures]}, indent=2))
    print(f"summary written to {args.json}")


if __name__ == "__main__":
    main()
