"""Prove a grader before students meet it: the solution scores full marks, its mutants do not.

Every mutant of the solution (``mutants.py``) is graded, in the sandbox, on
the problems that need the function or class it changes. It is *killed* when
it loses points on some seed; *equivalent* when it survives and every reply
it gave the grader equals the solution's (no grader could tell them apart on
those inputs); *accepted* when its output differs in a way the contract
leaves to the student (``Assignment.accepted_variants``, with the reason), or
when only training problems grade it and it still trains past the threshold;
*survived* otherwise: its output differs and the checks missed it, which is
a hole in the grader.
"""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..engine import grade_submission
from ..engine.proxy import REPLIES
from ..engine.submission import load_submission
from ..harness.wire import Tag
from ..results import Grade
from ..spec import Assignment, ProblemSpec
from .mutants import Mutant, apply, sites

Verdict = Literal["killed", "equivalent", "accepted", "survived"]
TRAINS_ANYWAY = ("it still trains past the threshold: a training problem grades the accuracy "
                 "reached, not the code that reached it")


@dataclass
class MutantResult:
    file: str
    mutant: Mutant
    verdict: Verdict
    caught_by: str = ""


@dataclass
class ProblemStrength:
    id: str
    results: list[MutantResult] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(r.verdict == verdict for r in self.results)


@dataclass
class StrengthReport:
    slug: str
    seeds: tuple[int, ...]
    reference_misses: list[str]          # "seed 2: Linear 4/5", empty when full marks
    problems: list[ProblemStrength]
    unowned: int = 0                     # mutation sites in code no problem grades
    skipped: list[str] = field(default_factory=list)  # not gradable here (a data set missing)

    @property
    def ok(self) -> bool:
        return not self.reference_misses and all(p.count("survived") == 0
                                                 for p in self.problems)


def solution_files(root: Path) -> list[tuple[Path, str]]:
    """The files to submit as the solution: a folder's .py files, or one file.

    A package's ``__init__.py`` only glues its modules together when there are others
    (they are what students hand in); alone, it is the solution and goes in as
    ``solution.py``.
    """
    if root.is_file():
        return [(root, root.name)]
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    if any(p.name != "__init__.py" for p in files):
        files = [p for p in files if p.name != "__init__.py"]
    named = []
    for p in files:
        rel = p.relative_to(root).as_posix()
        named.append((p, "solution.py" if rel == "__init__.py" else rel))
    return named


def check_assignment(assignment: Assignment, solution: Sequence[tuple[Path, str]], *,
                     seeds: Sequence[int] = (1, 2, 3), problems: Sequence[str] | None = None,
                     progress: Callable[[str], None] | None = None) -> StrengthReport:
    graded = [p for p in assignment.problems if not p.manual
              and (problems is None or p.id in problems)]
    work = Path(tempfile.mkdtemp(prefix="dlgrade-strength-"))
    try:
        runner = _Runner(assignment, solution, work)
        misses, skipped = [], set()
        for seed in seeds:
            result = runner.grade(None, seed, graded)
            skipped |= {p.id for p in result.problems if p.status == "skipped"}
            misses += [f"seed {seed}: {p.id} {p.score:g}/{p.max_score:g}"
                       + (f" ({p.message})" if p.message else "")
                       for p in result.problems
                       if p.score < p.max_score and p.status != "skipped"]
        graded = [p for p in graded if p.id not in skipped]
        report = StrengthReport(assignment.slug, tuple(seeds), misses,
                                [ProblemStrength(p.id) for p in graded], skipped=sorted(skipped))
        by_id = {p.id: p for p in report.problems}
        stems = {Path(n).stem for _, n in solution}
        for path, name in solution:
            units = _units(path, name)
            uses = _uses([source for source, _ in units])
            for source, rebuild in units:
                for site in sites(source):
                    affected = [p for p in graded
                                if _grades(p, name, site.owner, uses, stems)]
                    if not affected:
                        report.unowned += 1
                        continue
                    mutant = apply(source, site)
                    judged = replace(mutant, source=rebuild(mutant.source))
                    verdict, caught_by = runner.judge(name, judged, seeds, affected)
                    if verdict == "survived":
                        verdict, caught_by = _accepted(assignment, mutant, affected)
                    if verdict == "survived" and all(p.training for p in affected):
                        verdict, caught_by = "accepted", TRAINS_ANYWAY
                    for p in affected:
                        by_id[p.id].results.append(
                            MutantResult(name, mutant, verdict, caught_by))
                    if progress:
                        progress(f"{name}:{site.line} {site.operator} → {verdict}")
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _units(path: Path, name: str) -> list[tuple[str, Callable[[str], str]]]:
    """The Python sources of one solution file, each with how to rebuild the whole file
    around a mutated copy: the file itself, or each code cell of a notebook."""
    text = path.read_text(encoding="utf-8")
    if name.endswith(".py"):
        return [(text, lambda mutated: mutated)]
    if not name.endswith(".ipynb"):
        return []
    notebook = json.loads(text)
    units = []
    for i, cell in enumerate(notebook.get("cells", [])):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") != "code":
            continue
        try:
            ast.parse(source)
        except SyntaxError:  # IPython magics: not mutated
            continue

        def rebuild(mutated: str, i: int = i) -> str:
            copy = json.loads(text)
            copy["cells"][i]["source"] = mutated
            return json.dumps(copy)

        units.append((source, rebuild))
    return units


def _uses(sources: Sequence[str]) -> dict[str, set[str]]:
    """Top-level function and class -> the top-level names it uses (a call graph, by name)."""
    trees = [ast.parse(src) for src in sources]
    tops = {n.name for t in trees for n in t.body
            if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    uses: dict[str, set[str]] = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                uses[node.name] = (names & tops) - {node.name}
    return uses


def _reached(start: Sequence[str], uses: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for used in uses.get(todo.pop(), ()):
            if used not in seen:
                seen.add(used)
                todo.append(used)
    return seen


def _grades(problem: ProblemSpec, file: str, owner: str, uses: dict[str, set[str]],
            stems: frozenset[str] | set[str] = frozenset()) -> bool:
    """Does ``problem`` grade ``owner`` of ``file``? By its ``needs`` and what they call, or
    else by its id: ``layers.affine_forward`` grades that function of ``layers.py`` (or of
    any file) and what it calls, ``neural_net.loss`` (no top-level ``loss``) the whole of
    ``neural_net.py``."""
    if problem.needs:
        return owner in _reached(problem.needs, uses)
    stem, _, rest = problem.id.partition(".")
    if stem in stems and stem != Path(file).stem:  # fc_net.TwoLayerNet is not neural_net's
        return False
    if rest in uses:
        return owner in _reached([rest], uses)
    return stem == Path(file).stem


def _accepted(assignment: Assignment, mutant: Mutant, problems: Sequence[ProblemSpec]
              ) -> tuple[Verdict, str]:
    added = [line for line in mutant.diff.splitlines() if line.startswith("+")]
    for problem_id, text, why in assignment.accepted_variants:
        if any(p.id == problem_id for p in problems) and any(text in a for a in added):
            return "accepted", why
    return "survived", ""


class _Runner:
    def __init__(self, assignment: Assignment, solution: Sequence[tuple[Path, str]],
                 work: Path) -> None:
        self.assignment, self.solution, self.work = assignment, solution, work
        self.baseline: dict[tuple[int, tuple[str, ...]], list[Any]] = {}

    def grade(self, mutated: tuple[str, str] | None, seed: int,
              problems: Sequence[ProblemSpec], replies: list[Any] | None = None) -> Grade:
        folder = self.work / ("mutant" if mutated else "solution")
        shutil.rmtree(folder, ignore_errors=True)
        for path, name in self.solution:
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if mutated and name == mutated[0]:
                target.write_text(mutated[1], encoding="utf-8")
            else:
                shutil.copyfile(path, target)
        token = REPLIES.set(replies)
        try:
            return grade_submission(self.assignment, load_submission([folder]), seed=seed,
                                    problems=list(problems))
        finally:
            REPLIES.reset(token)

    def judge(self, name: str, mutant: Mutant, seeds: Sequence[int],
              problems: Sequence[ProblemSpec]) -> tuple[Verdict, str]:
        first_replies: list[Any] = []
        for k, seed in enumerate(seeds):
            result = self.grade((name, mutant.source), seed, problems,
                                first_replies if k == 0 else None)
            for p in result.problems:
                if p.score < p.max_score:
                    failing = next((c for c in p.checks if not c.ok), None)
                    return "killed", failing.name if failing else (p.message or p.status)
        key = (seeds[0], tuple(p.id for p in problems))
        if key not in self.baseline:
            self.baseline[key] = []
            self.grade(None, seeds[0], problems, self.baseline[key])
        if _same(first_replies, self.baseline[key]):
            return "equivalent", ""
        return "survived", ""


def _same(a: Any, b: Any) -> bool:
    """Replies equal up to floating-point reassociation (1e-12 relative)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=1e-12, atol=1e-15, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, Tag) and isinstance(b, Tag):
        return a.name == b.name and _same(a.value, b.value)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b)) or (a != a and b != b)
    return bool(a == b)
