"""``dlgrade datasets``: install data sets and see what is installed where.

Kept separate from the engine's CLI so the lead can mount it with
``app.add_typer(datasets_app, name="datasets")``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from graders.datasets.download import fetch
from graders.datasets.errors import DatasetError
from graders.datasets.registry import DATA_DIR_ENV, DATASETS, MIRROR_ENV, data_dir, dataset_dir
from graders.datasets.store import installed_size, is_installed

datasets_app = typer.Typer(help="Download and list the data sets that training problems use.",
                           no_args_is_help=True)


def _size(n: int) -> str:
    """Sizes as people read them (decimal units, as download pages state them)."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


@datasets_app.command("fetch")
def fetch_dataset(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(DATASETS)}.")],
    mirror: Annotated[str | None, typer.Option(
        help=f"Base URL serving MIRROR/NAME/FILE instead of the official sources "
             f"(also ${MIRROR_ENV}).")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="Show a progress bar on stderr.")] = True,
) -> None:
    """Download a data set from its official sources and verify its checksums."""
    entry = DATASETS.get(name)
    if entry is None:
        typer.echo(f"No data set named {name!r}; known: {', '.join(DATASETS)}.", err=True)
        raise typer.Exit(2)
    if entry.bundled_with:
        typer.echo(f"{name} ships with {entry.bundled_with}: nothing to fetch.")
        return
    try:
        downloaded = fetch(name, progress=progress, mirror=mirror)
    except DatasetError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    where = dataset_dir(name)
    if downloaded:
        typer.echo(f"{name}: {len(downloaded)} file(s) downloaded and verified in {where}")
    else:
        typer.echo(f"{name}: already installed and verified in {where}")


@datasets_app.command("list")
def list_datasets() -> None:
    """Show every data set, whether it is installed, its size, and where it lives."""
    source = f"${DATA_DIR_ENV}" if os.environ.get(DATA_DIR_ENV, "").strip() else "default"
    typer.echo(f"Data directory: {data_dir()} ({source})")
    rows = [("NAME", "STATUS", "SIZE", "LOCATION")]
    for name, entry in DATASETS.items():
        if entry.bundled_with:
            rows.append((name, "bundled", "-", f"inside {entry.bundled_with}"))
        elif is_installed(name):
            rows.append((name, "installed", _size(installed_size(name)), str(dataset_dir(name))))
        else:
            rows.append((name, "missing", f"{_size(entry.download_size)} to download",
                         f"dlgrade datasets fetch {name}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[3]]))
