"""Shared helpers: repeated timing, medians, and one printed row per figure."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Figure:
    name: str
    value: float
    baseline: float
    unit: str
    target: str
    met: bool
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    def row(self) -> str:
        verdict = "MET" if self.met else "NOT MET"
        return (f"{self.name:<44} {self.value:>10.4g} {self.unit:<6} "
                f"baseline {self.baseline:>10.4g}  ratio {self.ratio:>8.3g}  "
                f"target {self.target:<26} {verdict}"
                + (f"\n    {self.note}" if self.note else ""))

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved(a: Callable[[], object], b: Callable[[], object], repeats: int
                ) -> tuple[float, float]:
    """Medians of a and b run alternately, so machine noise hits both sides alike."""
    ta, tb = [], []
    for _ in range(repeats):
        for fn, sink in ((a, ta), (b, tb)):
            t = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - t)
    return statistics.median(ta), statistics.median(tb)
