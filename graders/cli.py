"""The ``dlgrade`` command: grade one submission locally, list assignments, run the service."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.main
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from .errors import DlgradeError, SandboxUnavailable, UnknownAssignment
from .results import Grade, ProblemResult

if TYPE_CHECKING:
    from typer._click import Command, Context  # the click that typer's groups are built on


class _Commands(TyperGroup):
    """The top-level commands; those of optional packages are mounted when first looked up.

    ``dlgrade datasets`` brings httpx and ``serve``/``worker`` the service's settings
    (pydantic): about 0.2 s of every cold start that ``dlgrade grade`` does not need.
    """

    _optional_mounted = False

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands:
            self._mount_optional()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Context) -> list[str]:
        self._mount_optional()
        return super().list_commands(ctx)

    def _mount_optional(self) -> None:
        """Sub-commands whose packages may be absent from a minimal install."""
        if self._optional_mounted:
            return
        self._optional_mounted = True
        extra = typer.Typer()
        try:
            from .datasets.cli import datasets_app
            extra.add_typer(datasets_app, name="datasets", help="Install and list data sets.")
        except ImportError:
            pass
        try:
            from service.cli import register
            register(extra)
        except ImportError:
            pass
        for name, command in typer.main.get_group(extra).commands.items():
            self.add_command(command, name)


app = typer.Typer(cls=_Commands, add_completion=False, no_args_is_help=True,
                  help="dlgrade: exact, sandboxed grading of deep-learning assignments.")
err = Console(stderr=True)

EXIT_USAGE = 2
EXIT_NO_SANDBOX = 3

STATUS_STYLE = {"passed": "green", "partial": "yellow", "failed": "red", "error": "red bold",
                "skipped": "dim", "manual": "cyan"}


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    gradescope = "gradescope"


@app.command()
def grade(
    assignment: Annotated[str, typer.Argument(help="Assignment slug, e.g. radboud-dl-a1.")],
    paths: Annotated[list[Path], typer.Argument(help="Submission files, folders or zips.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only.")] = False,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    seed: Annotated[int | None, typer.Option(help="Reproduce a run: reuse its seed.")] = None,
    problem: Annotated[list[str] | None, typer.Option(
        "--problem", "-p", help="Grade only this problem (repeatable).")] = None,
    no_sandbox: Annotated[bool, typer.Option(
        "--no-sandbox", help="DANGEROUS: run student code unprotected (grader debugging only).")
    ] = False,
) -> None:
    """Grade one submission locally, with no server."""
    from .assignments import registry
    from .engine import grade as run_grade

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    fmt = OutputFormat.json if as_json else output_format
    try:
        spec = registry.get(assignment)
        if problem:
            for pid in problem:
                spec.get(pid)
    except (UnknownAssignment, DlgradeError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    for p in paths:
        if not p.exists():
            err.print(f"[red]error:[/red] no such file or folder: {p}")
            raise typer.Exit(EXIT_USAGE)
    if no_sandbox:
        err.print("[red bold]WARNING: --no-sandbox runs the submission with your own "
                  "permissions. It can read your files (reference solutions included), your "
                  "environment and the network. Use it only to debug a grader on code you "
                  "trust.[/red bold]")

    def progress(result: ProblemResult) -> None:
        if fmt is OutputFormat.table:
            style = STATUS_STYLE.get(result.status, "")
            err.print(f"  {result.id}: [{style}]{result.status}[/{style}] "
                      f"{result.score:g}/{result.max_score:g}")

    if fmt is OutputFormat.table:
        err.print(f"Grading {', '.join(map(str, paths))} as [bold]{assignment}[/bold] ...")
    try:
        result = run_grade(assignment, paths, seed=seed, problems=problem,
                           sandbox=not no_sandbox, on_problem=progress)
    except SandboxUnavailable as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_NO_SANDBOX) from None
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
    elif fmt is OutputFormat.gradescope:
        sys.stdout.write(json.dumps(result.to_gradescope(), indent=2) + "\n")
    else:
        Console().print(_table(result))


def _table(result: Grade) -> Table:
    table = Table(title=f"{result.assignment}: {result.score:g} / {result.max_score:g} "
                        f"(seed {result.seed}, {result.duration_s:.1f} s)")
    table.add_column("problem")
    table.add_column("points", justify="right")
    table.add_column("status")
    table.add_column("first problem found", overflow="fold")
    for p in result.problems:
        style = STATUS_STYLE.get(p.status, "")
        points = f"– / {p.max_score:g}" if p.manual else f"{p.score:g} / {p.max_score:g}"
        table.add_row(p.id, points, f"[{style}]{p.status}[/{style}]",
                      "graded by a person" if p.manual else p.message)
    return table


@app.command("assignments")
def list_assignments() -> None:
    """List the assignments this grader knows: where each came from, its version, its points."""
    from .assignments import registry

    console = Console()
    for bundle in registry.bundles():
        try:
            a = registry.get(bundle.slug) if bundle.error is None and bundle.slug else None
        except DlgradeError:
            a = None
        if a is None or bundle.manifest is None:
            err.print(f"[red]broken bundle[/red] ({bundle.origin}): {bundle.error}")
            continue
        version = bundle.manifest.version
        where = bundle.origin if str(bundle.root) in bundle.origin else \
            f"{bundle.origin}: {bundle.root}"
        console.print(f"[bold]{a.slug}[/bold] {version} — {a.title} ({a.max_score:g} points "
                      f"autograded)\n  from {where}", soft_wrap=True, highlight=False)
        table = Table()
        table.add_column("problem")
        table.add_column("points", justify="right")
        table.add_column("kind")
        for p in a.problems:
            kind = "manual" if p.manual else ("training" if p.training else "auto")
            table.add_row(p.id, f"{p.points:g}", kind)
        console.print(table)


assignment_app = typer.Typer(no_args_is_help=True,
                              help="Work on one assignment bundle before publishing it.")
app.add_typer(assignment_app, name="assignment")


@assignment_app.command("check")
def check_bundle(
    bundle: Annotated[str, typer.Argument(help="A bundle folder or zip, or a known slug.")],
    seeds: Annotated[str, typer.Option(help="Seeds the solution must score full on.")] = "1,2,3",
    problem: Annotated[list[str] | None, typer.Option(
        "--problem", "-p", help="Check only this problem (repeatable).")] = None,
    markdown: Annotated[Path | None, typer.Option(
        help="Also write the report as Markdown here.")] = None,
    killed: Annotated[bool, typer.Option(
        "--killed", help="Also list every caught mutant and the check that caught it.")
    ] = False,
) -> None:
    """Prove the grader: the solution scores full marks, and its mutants are caught.

    Exit status 0 when every mutant that changes the solution's output loses points,
    1 when one survives or the solution itself loses points, 2 for a bundle that
    cannot be loaded.
    """
    from .assignments import registry
    from .bundles import Registry
    from .strength import check_assignment, print_report, solution_files, to_markdown

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    target = Path(bundle)
    try:
        found, slug = registry, bundle
        if target.exists():
            found = Registry.from_paths([target], builtin=False)
            last = found.bundles()[-1] if found.bundles() else None
            if last is None or last.error is not None or last.slug is None:
                raise last.error if last and last.error else UnknownAssignment(
                    f"no bundle in {target}")
            slug = last.slug
        spec = found.get(slug)
        info = found.bundle(slug)
        solution = info.solution
        if not solution.exists():
            raise UnknownAssignment(f"{info.root / 'dlgrade-bundle.toml'}: solution "
                                    f"{solution} not found")
    except (UnknownAssignment, DlgradeError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    seed_list = tuple(int(s) for s in seeds.split(",") if s.strip())
    err.print(f"Checking {spec.slug} against mutants of {solution} ...")
    report = check_assignment(spec, solution_files(solution), seeds=seed_list,
                              problems=problem, progress=lambda line: err.print(
                                  f"  {line}", highlight=False))
    print_report(Console(), report, killed=killed)
    if markdown is not None:
        markdown.write_text(to_markdown(report), encoding="utf-8")
    raise typer.Exit(0 if report.ok else 1)


if __name__ == "__main__":
    app()
