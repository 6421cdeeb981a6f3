"""The strength report as a terminal table and as Markdown for the course's docs."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .check import MutantResult, StrengthReport


def _change(r: MutantResult) -> str:
    """The mutant's changed line, short: what a reader needs to see which bug it plants."""
    added = next((line[1:].strip() for line in r.mutant.diff.splitlines()
                  if line.startswith("+") and not line.startswith("+++")), "")
    return added if len(added) <= 70 else added[:67] + "..."


def print_report(console: Console, report: StrengthReport, *, killed: bool = False) -> None:
    table = Table(title=f"{report.slug}: grader strength (seeds "
                        f"{', '.join(map(str, report.seeds))})")
    for col in ("problem", "mutants", "killed", "equivalent", "accepted", "survived"):
        table.add_column(col, justify="left" if col == "problem" else "right")
    for p in report.problems:
        survived = p.count("survived")
        table.add_row(p.id, str(len(p.results)), str(p.count("killed")),
                      str(p.count("equivalent")), str(p.count("accepted")),
                      f"[red bold]{survived}[/red bold]" if survived else "0")
    console.print(table)
    if report.skipped:
        console.print(f"not checked here: {', '.join(report.skipped)} (skipped when graded)")
    for miss in report.reference_misses:
        console.print(f"[red]the solution does not score full marks:[/red] {miss}")
    for p in report.problems:
        for r in p.results:
            if killed and r.verdict == "killed":
                console.print(f"killed {p.id}: {r.file}:{r.mutant.site.line} "
                              f"({r.mutant.site.operator}) {_change(r)}  [dim]caught by "
                              f"{r.caught_by}[/dim]", highlight=False)
            if r.verdict == "survived":
                console.print(f"[red]survived[/red] {p.id}: {r.file}:{r.mutant.site.line} "
                              f"({r.mutant.site.operator})\n{r.mutant.diff}", highlight=False)
    console.print("[green]every mutant that changes the output is caught[/green]" if report.ok
                  else "[red]the grader has holes: see above[/red]")


def to_markdown(report: StrengthReport) -> str:
    lines = [f"## {report.slug}", "",
             f"Seeds {', '.join(map(str, report.seeds))}; the solution scores full marks on "
             f"each: **{'yes' if not report.reference_misses else 'no'}**. "
             f"{report.unowned} mutation sites lie in code no problem grades."
             + (f" Not checked here (skipped when graded): {', '.join(report.skipped)}."
                if report.skipped else ""), "",
             "| problem | mutants | killed | equivalent | accepted | survived |",
             "|---|--:|--:|--:|--:|--:|"]
    for p in report.problems:
        lines.append(f"| {p.id} | {len(p.results)} | {p.count('killed')} | "
                     f"{p.count('equivalent')} | {p.count('accepted')} | "
                     f"{p.count('survived')} |")
    lines += ["", *[f"- not full marks: {m}" for m in report.reference_misses]]
    for verdict in ("survived", "accepted", "equivalent"):
        shown = [(p.id, r) for p in report.problems for r in p.results if r.verdict == verdict]
        if not shown:
            continue
        lines += ["", f"{verdict.capitalize()} mutants:", ""]
        for pid, r in shown:
            diff = r.mutant.diff.replace("\n", "\n    ")
            why = f": {r.caught_by}" if verdict == "accepted" else ""
            lines += [f"- {pid}, {r.file}:{r.mutant.site.line} ({r.mutant.site.operator}){why}",
                      "", f"    {diff}", ""]
    caught = [(p.id, r) for p in report.problems for r in p.results if r.verdict == "killed"]
    if caught:
        lines += ["", f"<details><summary>The {len(caught)} killed mutants, and the check "
                      "that caught each</summary>", "",
                  "| problem | where | operator | changed to | caught by |",
                  "|---|---|---|---|---|"]
        lines += [f"| {pid} | {r.file}:{r.mutant.site.line} | {r.mutant.site.operator} | "
                  f"{_cell(_change(r))} | {_cell(r.caught_by)} |" for pid, r in caught]
        lines += ["", "</details>"]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    """Safe inside a Markdown table cell."""
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if text else ""
