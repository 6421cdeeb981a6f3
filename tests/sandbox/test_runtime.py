"""Which package directories a sandbox sees, and which copies of a replaced file it covers."""

from __future__ import annotations

from pathlib import Path

from graders.sandbox.runtime import discover

DIGITS = Path("sklearn") / "datasets" / "data" / "digits.csv.gz"


def _install(prefix: Path) -> Path:
    """A prefix whose site-packages holds a scikit-learn digits file; returns site-packages."""
    packages = prefix / "lib" / "python3.11" / "site-packages"
    (packages / DIGITS).parent.mkdir(parents=True)
    (packages / DIGITS).write_bytes(b"all 1797 digits")
    return packages


def test_a_package_directory_the_interpreter_does_not_search_is_covered(tmp_path):
    venv, base = _install(tmp_path / "venv"), _install(tmp_path / "base")

    rt = discover(prefixes=(str(tmp_path / "base"), str(tmp_path / "venv")),
                  site_packages=[str(venv)], search_path=[])

    assert base.resolve() in rt.masked
    assert venv.resolve() not in rt.masked
    assert rt.copies(str((venv / DIGITS).resolve())) == (str((venv / DIGITS).resolve()),)


def test_every_searched_copy_of_a_replaced_file_is_covered(tmp_path):
    """A venv with the system's site-packages: scikit-learn may sit in both."""
    venv, base = _install(tmp_path / "venv"), _install(tmp_path / "base")

    rt = discover(prefixes=(str(tmp_path / "base"), str(tmp_path / "venv")),
                  site_packages=[str(venv), str(base)], search_path=[])

    assert not {venv.resolve(), base.resolve()} & set(rt.masked)
    assert set(rt.copies(str((venv / DIGITS).resolve()))) == {
        str((venv / DIGITS).resolve()), str((base / DIGITS).resolve())}
