"""Prove a spec rewrite keeps every test submission's verdict: grade, record, compare.

    python scripts/verdicts.py baseline SLUG...   # grade with the spec as it is now
    python scripts/verdicts.py compare SLUG...    # grade again, compare with the baseline

The baseline is ``docs/verdicts/<slug>.json``: per submission, per problem, the score
out of the maximum. ``compare`` grades the same submissions with the same seeds and
sorts each one: **identical** (every problem scores the same), **stricter** (a buggy
submission loses more on some problem, gains nothing anywhere), **looser** (some
problem scores more than before: a buggy submission let through) or **lost** (a correct
submission scores less). Looser and lost are failures: the exit status is 1.

The submissions are the ones the assignment tests grade: radboud-dl-a1's corpus
(``tests/assignments/radboud_dl_a1/submissions``), ucla-c247-hw3's student package,
the reference, the stub and every single bug of ``bugs.py``. CIFAR-10 is pointed at
an empty folder, so its two training problems are skipped in both runs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "verdicts"
RADBOUD = ROOT / "tests" / "assignments" / "radboud_dl_a1" / "submissions"
UCLA = ROOT / "tests" / "assignments" / "ucla_c247_hw3"

Case = tuple[str, list[Path], bool]  # name, files, whether it is a correct submission


def _radboud(tmp: Path) -> Iterator[Case]:
    manifest = json.loads((RADBOUD / "manifest.json").read_text())
    for name in sorted(manifest):
        yield name, [RADBOUD / name], not manifest[name]["loses"]


def _ucla(tmp: Path) -> Iterator[Case]:
    from tests.assignments.ucla_c247_hw3.bugs import BUGS
    from tests.assignments.ucla_c247_hw3.support import reference_sources, write_zip

    student = UCLA / "submissions" / "student" / "nndl"
    stub = UCLA / "submissions" / "stub" / "nndl"
    for name, folder in (("student", student), ("stub", stub)):
        files = {f"nndl/{p.name}": p.read_text() for p in sorted(folder.glob("*.py"))}
        yield name, [write_zip(tmp / f"{name}.zip", files)], name == "student"
    files = {f"nndl/{k}": v for k, v in reference_sources().items()}
    yield "reference", [write_zip(tmp / "reference.zip", files)], True
    for bug in BUGS:
        path = tmp / f"{bug.name}.zip"
        path.write_bytes(bug.zip_bytes())
        yield bug.name, [path], False


CORPORA = {"radboud-dl-a1": _radboud, "ucla-c247-hw3": _ucla}


def grade_all(slug: str) -> dict[str, dict]:
    from graders.engine import grade

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DLGRADE_DATA_DIR"] = str(Path(tmp) / "no-data")
        for name, paths, correct in CORPORA[slug](Path(tmp)):
            result = grade(slug, paths, seed=zlib.crc32(name.encode()))
            out[name] = {"correct": correct, "problems": {
                p.id: [p.score, p.max_score] for p in result.problems}}
            print(f"{slug}: {name}: {result.score:g}/{result.max_score:g}", file=sys.stderr)
    return out


def compare(old: dict[str, dict], new: dict[str, dict]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"identical": [], "stricter": [], "looser": [], "lost": [],
                                   "missing": []}
    for name, before in old.items():
        after = new.get(name)
        if after is None:
            kinds["missing"].append(name)
            continue
        diffs = {pid: (s, after["problems"].get(pid, [None])[0])
                 for pid, (s, _) in before["problems"].items()
                 if after["problems"].get(pid, [None])[0] != s}
        if not diffs:
            kinds["identical"].append(name)
        elif before["correct"] and any(b is None or b < a for a, b in diffs.values()):
            kinds["lost"].append(f"{name}: {diffs}")
        elif any(b is None or b > a for a, b in diffs.values()):
            kinds["looser"].append(f"{name}: {diffs}")
        else:
            kinds["stricter"].append(f"{name}: {diffs}")
    return kinds


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("baseline", "compare"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, slugs = argv[0], argv[1:] or list(CORPORA)
    failed = False
    OUT.mkdir(parents=True, exist_ok=True)
    for slug in slugs:
        path = OUT / f"{slug}.json"
        verdicts = grade_all(slug)
        if mode == "baseline":
            path.write_text(json.dumps(verdicts, indent=1, sort_keys=True) + "\n")
            print(f"wrote {path.relative_to(ROOT)}: {len(verdicts)} submissions")
            continue
        kinds = compare(json.loads(path.read_text()), verdicts)
        print(f"{slug}: {sum(len(v) for v in kinds.values())} compared: "
              + ", ".join(f"{len(v)} {k}" for k, v in kinds.items()))
        for kind in ("stricter", "looser", "lost", "missing"):
            for line in kinds[kind]:
                print(f"  {kind}: {line}")
        failed |= bool(kinds["looser"] or kinds["lost"] or kinds["missing"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
