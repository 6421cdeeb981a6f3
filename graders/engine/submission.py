"""Turn what a student uploaded into plain Python source, refusing anything unsafe.

This is the trusted side: it only reads bytes and text and never runs student
code. Uploads arrive as single files, folders or zip archives; zips are read
member by member in memory (never extracted), with the archive's declared sizes
checked first and the bytes actually inflated counted as they come, so neither
a crafted name nor a lying header can touch the file system or exhaust memory.

Notebooks become one ``Cell`` per code cell, labelled ``"hw1.ipynb cell 14"``:
the number is the cell's 1-based position among *all* cells, markdown included,
which is what JupyterLab, VS Code and Colab count when they say "cell 14" (the
``In [17]`` execution count changes with every run and is often missing).
IPython syntax is turned into plain Python line by line, keeping line numbers,
so a traceback in the sandbox points at the line the student sees:

- ``%time stmt`` and ``%timeit [options] stmt`` keep ``stmt`` (Jupyter runs it);
- every other line magic, ``!shell`` line, ``obj?`` help line and bare
  automagic (``pip install x``) becomes ``pass`` at the same indentation;
- ``x = !ls`` becomes ``x = []`` and ``x = %magic`` becomes ``x = None``, so the
  name still exists;
- a cell starting with ``%%time``, ``%%timeit`` or ``%%capture`` runs its body;
  any other cell magic (``%%bash``, ``%%writefile``, ``%%html``...) drops the
  cell and leaves a note in ``Submission.notes``.

A ``.py`` file that does not parse gets the same treatment (students paste
``%matplotlib inline`` into scripts); one that parses is left untouched.
"""

from __future__ import annotations

import ast
import codecs
import json
import os
import re
import stat
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import nbformat

from graders.errors import SubmissionError, UnreadableNotebook, UnsafeArchive

SourceKind = Literal["py", "notebook"]

_KINDS: dict[str, SourceKind] = {".py": "py", ".ipynb": "notebook"}
_IGNORED_PARTS = frozenset({"__pycache__", "__MACOSX"})  # dot-names are ignored too
_IGNORED_SUFFIXES = (".pyc", ".pyo")
_MAX_JSON_DEPTH = 100
_CHUNK = 1 << 16
_TOO_DEEP = object()


@dataclass(frozen=True)
class UploadLimits:
    """How much one submission may hold, across every file and archive in it.

    The compression ratio is only checked for members larger than
    ``ratio_floor_bytes``: a small, very regular file (a CSV of zeros) packs
    far better than 100:1 and is harmless; the byte limits stop real bombs.
    """

    max_files: int = 200
    max_file_bytes: int = 20_000_000
    max_total_bytes: int = 100_000_000
    max_ratio: float = 100.0
    max_name_length: int = 255
    ratio_floor_bytes: int = 1_000_000


@dataclass(frozen=True)
class Cell:
    """One runnable unit: a whole ``.py`` file or one notebook code cell."""

    label: str
    source: str


@dataclass
class SourceFile:
    """A code file as uploaded; ``name`` is its relative path (``nndl/layers.py``)."""

    name: str
    kind: SourceKind
    cells: list[Cell]


@dataclass
class Submission:
    """Everything a student handed in: code in upload order and other files by path.

    ``notes`` says what was changed or left out on the way (dropped
    ``%%bash`` cells, schema problems in a notebook that was still usable).
    """

    sources: list[SourceFile] = field(default_factory=list)
    data_files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def harness_files(self) -> list[dict[str, Any]]:
        """The plain-data form that ``harness.loader.load_sources`` takes."""
        return [
            {"name": f.name, "cells": [{"label": c.label, "source": c.source} for c in f.cells]}
            for f in self.sources
        ]


def load_submission(paths: Sequence[Path], limits: UploadLimits = UploadLimits()) -> Submission:
    """Read uploads in order: ``.py``, ``.ipynb``, folders, ``.zip`` and data files.

    Members of a folder or zip are taken in sorted path order, so a re-zipped
    upload loads the same way. Raises ``UnsafeArchive`` for anything that
    could harm the grader, ``UnreadableNotebook`` for a notebook that cannot
    be read, and ``SubmissionError`` for other uploads that cannot be graded.
    """
    builder = _Builder(limits)
    for path in paths:
        path = Path(path)
        if path.is_symlink():
            raise UnsafeArchive(f"{path.name} is a symbolic link; upload the file itself.")
        if path.is_dir():
            builder.add_folder(path)
        elif path.suffix.lower() == ".zip":
            builder.add_zip(path)
        elif path.is_file():
            name = builder.check_name(path.name, "the upload")
            builder.count_file(name)
            builder.add(name, builder.read_file(path, name))
        else:
            raise SubmissionError(f"{path.name} is not a file or folder that can be read.")
    return builder.submission


def arrange(submission: Submission, layout: Sequence[str]) -> Submission:
    """A copy whose code files sit where the course's layout puts them, with a note per move.

    A file stands for a layout path such as ``nndl/layers.py`` when its path
    ends with ``/nndl/layers.py`` (a zip of a parent folder) or when it is
    ``layers.py`` at the top level (files uploaded one by one). A file already
    at its layout path keeps it; otherwise the last one uploaded that stands
    for the path moves there (the last definition wins, as everywhere), and
    any others keep their own names. The submission passed in is not changed.
    """
    if not layout:
        return submission
    names = [s.name for s in submission.sources]
    moves: dict[int, str] = {}
    for path in layout:
        if path in names:
            continue
        base = path.rsplit("/", 1)[-1]
        candidates = [i for i, name in enumerate(names) if i not in moves
                      and (name.endswith("/" + path) or name == base)]
        if candidates:
            moves[candidates[-1]] = path
    if not moves:
        return submission
    sources = [SourceFile(moves[i], s.kind, s.cells) if i in moves else s
               for i, s in enumerate(submission.sources)]
    notes = [*submission.notes, *(f"{names[i]} was loaded as {path}, where the course's "
                                  "files belong." for i, path in sorted(moves.items()))]
    return Submission(sources, dict(submission.data_files), notes)


class _Builder:
    """Collects files across all uploads and enforces the limits over their sum."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.submission = Submission()
        self.files = 0
        self.total = 0
        self.seen: set[str] = set()

    def room(self) -> int:
        """Bytes the next file may have: the smaller of both limits."""
        return min(self.limits.max_file_bytes, self.limits.max_total_bytes - self.total)

    def limit_error(self, name: str, size: int) -> UnsafeArchive:
        """Say which limit ``size`` broke, per file or in total."""
        if size > self.limits.max_file_bytes:
            return UnsafeArchive(
                f"{name} is {_size(size)}; the limit is {_size(self.limits.max_file_bytes)} "
                "per file."
            )
        return UnsafeArchive(
            f"The submission is larger than {_size(self.limits.max_total_bytes)} in total "
            f"(reached at {name}, {_size(size)})."
        )

    def check_name(self, name: str, where: str) -> str:
        """Refuse names that are not UTF-8, too long, or already used."""
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise SubmissionError(
                f"The file name {shown!r} in {where} is not UTF-8; rename it and upload again."
            ) from None
        if len(name) > self.limits.max_name_length:
            raise SubmissionError(
                f"The file name {name[:60]!r}... in {where} is {len(name)} characters long; "
                f"the limit is {self.limits.max_name_length}."
            )
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            raise SubmissionError(f"The file name {name!r} in {where} has control characters.")
        if name in self.seen:
            raise SubmissionError(f"Two files are named {name}; upload each file once.")
        return name

    def count_file(self, name: str) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise UnsafeArchive(
                f"The submission has more than {self.limits.max_files} files (reached at {name})."
            )

    def add(self, name: str, data: bytes) -> None:
        """File one checked file as source or data, by its suffix."""
        self.seen.add(name)
        self.total += len(data)
        if self.total > self.limits.max_total_bytes:
            raise self.limit_error(name, len(data))
        kind = _KINDS.get(os.path.splitext(name)[1].lower())
        if kind is None:
            self.submission.data_files[name] = data
        elif kind == "py":
            self.submission.sources.append(_python_file(name, data, self.submission.notes))
        else:
            self.submission.sources.append(_notebook_file(name, data, self.submission.notes))

    def add_folder(self, root: Path) -> None:
        """Walk a folder without following links; hidden and cache folders are skipped."""
        for path, rel in _walk(root):
            name = self.check_name(rel, root.name)
            self.count_file(name)
            self.add(name, self.read_file(path, name))

    def read_file(self, path: Path, name: str) -> bytes:
        """Read a regular file, never through a link, stopping as soon as it is too large."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as e:
            if path.is_symlink():
                raise UnsafeArchive(f"{name} is a symbolic link; links are not accepted.") from None
            raise SubmissionError(f"{name} cannot be read ({e.strerror}).") from None
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise UnsafeArchive(f"{name} is not a regular file.")
            room = self.room()
            if info.st_size > room:
                raise self.limit_error(name, info.st_size)
            data = f.read(room + 1)
        if len(data) > room:
            raise self.limit_error(name, len(data))
        return data

    def add_zip(self, path: Path) -> None:
        """Read a zip in memory after checking every member's name, type and sizes."""
        shown = path.name
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as raw:
            try:
                archive = zipfile.ZipFile(raw)
            except UnicodeDecodeError:
                raise SubmissionError(
                    f"{shown} has a member whose name is marked UTF-8 but is not; "
                    "rename the files and zip them again."
                ) from None
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
                raise SubmissionError(f"{shown} is not a readable zip archive ({e}).") from None
            with archive:
                members = self._plan_zip(archive, shown)
                for info, name in members:
                    self.add(name, self._read_member(archive, info, name, shown))

    def _plan_zip(self, archive: zipfile.ZipFile, shown: str) -> list[tuple[zipfile.ZipInfo, str]]:
        """Check every member before reading any, using the sizes the archive declares."""
        planned: list[tuple[zipfile.ZipInfo, str]] = []
        names: set[str] = set()
        declared = self.total
        infos = archive.infolist()
        if len(infos) > 4 * self.limits.max_files + 100:  # folders and __MACOSX included
            raise UnsafeArchive(
                f"{shown} has {len(infos)} entries; the limit is {self.limits.max_files} files."
            )
        for info in sorted(infos, key=lambda i: i.orig_filename):
            name = _member_name(info, shown)
            where = f"{shown} (member {name!r})"
            parts = _safe_parts(name, info.orig_filename, shown)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(f"{where} is a symbolic link; links are not accepted.")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchive(f"{where} is a special file, not a regular file.")
            if info.is_dir() or not parts or _ignored(parts):
                continue
            rel = "/".join(parts)
            if rel in names:
                raise UnsafeArchive(f"{shown} holds {rel} twice.")
            names.add(rel)
            rel = self.check_name(rel, shown)
            self.count_file(f"{rel} in {shown}")
            if info.flag_bits & 0x1:
                raise SubmissionError(
                    f"{rel} in {shown} is password-protected; zip it without one."
                )
            size = info.file_size
            if size > self.limits.max_file_bytes:
                raise UnsafeArchive(
                    f"{rel} in {shown} is {_size(size)} uncompressed; the limit is "
                    f"{_size(self.limits.max_file_bytes)} per file."
                )
            declared += size
            if declared > self.limits.max_total_bytes:
                raise UnsafeArchive(
                    f"{shown} expands to more than {_size(self.limits.max_total_bytes)} "
                    f"(reached at {rel})."
                )
            self._check_ratio(rel, shown, size, info.compress_size)
            planned.append((info, rel))
        return planned

    def _check_ratio(self, rel: str, shown: str, size: int, packed: int) -> None:
        if size <= self.limits.ratio_floor_bytes:
            return
        ratio = size / max(packed, 1)
        if ratio > self.limits.max_ratio:
            raise UnsafeArchive(
                f"{rel} in {shown} is compressed {ratio:.0f}:1 ({_size(packed)} to {_size(size)}); "
                f"the limit is {self.limits.max_ratio:.0f}:1."
            )

    def _read_member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, rel: str, shown: str
    ) -> bytes:
        """Inflate one member, counting the bytes so a header that lies changes nothing."""
        cap = min(self.room(), info.file_size)
        chunks: list[bytes] = []
        got = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    got += len(chunk)
                    if got > cap:
                        if got > info.file_size:
                            raise UnsafeArchive(
                                f"{rel} in {shown} inflates beyond its declared size of "
                                f"{_size(info.file_size)}."
                            )
                        raise self.limit_error(f"{rel} in {shown}", got)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
            raise SubmissionError(f"{rel} in {shown} cannot be read ({e}).") from None
        except RuntimeError as e:  # zipfile's word for an encrypted member
            raise SubmissionError(f"{rel} in {shown} cannot be read ({e}).") from None
        self._check_ratio(rel, shown, got, info.compress_size)
        return b"".join(chunks)


def _size(n: int) -> str:
    """Bytes in decimal units, as upload forms state their limits."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _ignored(parts: Sequence[str]) -> bool:
    """Editor, OS and cache files that were never meant as part of the submission."""
    return any(p.startswith(".") or p in _IGNORED_PARTS for p in parts) or parts[-1].endswith(
        _IGNORED_SUFFIXES
    )


def _member_name(info: zipfile.ZipInfo, shown: str) -> str:
    """The member's name as UTF-8; zips without the UTF-8 flag often hold UTF-8 anyway."""
    name = info.orig_filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    raw = name.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(
            f"{shown} has a member whose name is not UTF-8 ({raw!r}); "
            "rename the file and zip it again."
        ) from None


def _safe_parts(name: str, orig: str, shown: str) -> list[str]:
    """Split a member name into path parts, refusing any that could leave the archive."""
    where = f"{shown} (member {name!r})"
    if "\x00" in orig:
        raise UnsafeArchive(f"{where} has a NUL byte in its name.")
    if "\\" in name:
        raise UnsafeArchive(f"{where} uses backslashes in its path; zip it with '/' paths.")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise UnsafeArchive(f"{where} has an absolute path.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"{where} has '..' in its path.")
    return parts


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under ``root`` in sorted order, as (path, relative name)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                raise UnsafeArchive(f"{_rel(here / d, root)} in {root.name} is a symbolic link.")
        dirnames[:] = sorted(d for d in dirnames if not _ignored([d]))
        for f in sorted(filenames):
            rel = _rel(here / f, root)
            if _ignored(rel.split("/")):
                continue
            yield here / f, rel


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _decode(data: bytes, name: str, error: type[SubmissionError]) -> str:
    """UTF-8 text with an optional BOM, or an error that points at the bad byte."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = skip + e.start
        line = data.count(b"\n", 0, offset) + 1
        raise error(
            f"{name} is not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset} (line {line}) "
            "is not valid UTF-8; save the file with UTF-8 encoding and upload it again."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _python_file(name: str, data: bytes, notes: list[str]) -> SourceFile:
    """A ``.py`` file is one cell; IPython lines in it are converted only if it won't parse."""
    text = _decode(data, name, SubmissionError)
    if not _parses(text):
        converted = ipython_to_python(text)
        if converted is not None and converted != text:
            text = converted
            notes.append(f"{name}: IPython lines (magics, '!' commands) were left out.")
    return SourceFile(name=name, kind="py", cells=[Cell(label=name, source=text)])


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _notebook_file(name: str, data: bytes, notes: list[str]) -> SourceFile:
    """Code cells of a format-4 Python notebook, accepted when the cells themselves are usable."""
    nb = _notebook_json(_decode(data, name, UnreadableNotebook), name)
    _check_schema(nb, name, notes)
    cells: list[Cell] = []
    for index, cell in enumerate(nb["cells"], start=1):
        label = f"{name} cell {index}"
        if not isinstance(cell, dict):
            raise UnreadableNotebook(f"{label} is not a JSON object, so it is not a notebook cell.")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise UnreadableNotebook(f"{label}: its source is not text.")
        source = source.replace("\r\n", "\n").replace("\r", "\n")
        python = ipython_to_python(source)
        if python is None:
            magic = source.lstrip().split(None, 1)[0]
            notes.append(f"{label}: a {magic} cell is not Python and was not run.")
            continue
        cells.append(Cell(label=label, source=python))
    return SourceFile(name=name, kind="notebook", cells=cells)


def _notebook_json(text: str, name: str) -> dict[str, Any]:
    """Parse and shape-check a notebook's JSON, with messages a student can act on."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise UnreadableNotebook(
            f"{name} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
            "it may have been edited by hand or saved incompletely."
        ) from None
    except RecursionError:
        nb = _TOO_DEEP
    if nb is _TOO_DEEP or _depth(nb) > _MAX_JSON_DEPTH:
        raise UnreadableNotebook(
            f"{name} is nested more than {_MAX_JSON_DEPTH} levels deep; it is not a notebook."
        )
    if not isinstance(nb, dict):
        raise UnreadableNotebook(f"{name} is not a notebook: its JSON is not an object.")
    version = nb.get("nbformat")
    if type(version) is not int:
        raise UnreadableNotebook(f"{name} is not a Jupyter notebook (it has no 'nbformat' number).")
    if version < 4:
        raise UnreadableNotebook(
            f"{name} uses notebook format {version}, from before 2015; open it in a current "
            "Jupyter or Colab and save it, which converts it to format 4."
        )
    if version > 4:
        raise UnreadableNotebook(
            f"{name} uses notebook format {version}; the grader reads format 4."
        )
    if not isinstance(nb.get("cells"), list):
        raise UnreadableNotebook(f"{name} is not a notebook: it has no list of 'cells'.")
    language = _language(nb.get("metadata"))
    if language is not None and language.lower() != "python":
        raise UnreadableNotebook(f"{name} is a {language} notebook; the grader runs Python.")
    return nb


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > _MAX_JSON_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest if isinstance(value, dict | list) else 0


def _language(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return None
    for key, field_name in (("kernelspec", "language"), ("language_info", "name")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(field_name), str):
            return section[field_name]
    return None


def _check_schema(nb: dict[str, Any], name: str, notes: list[str]) -> None:
    """Validate with nbformat, but only note problems: Colab and old tools bend the schema."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(nb), relax_add_props=True)
    except nbformat.ValidationError as e:
        reason = getattr(e, "message", str(e)).splitlines()[0][:200]
        notes.append(
            f"{name}: the notebook does not fully follow format 4 ({reason}); read anyway."
        )
    except Exception as e:  # a malformed notebook can trip the validator itself
        notes.append(
            f"{name}: the notebook could not be validated ({type(e).__name__}); read anyway."
        )


# ---- IPython syntax to Python ----------------------------------------------------------------

_RUN_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture"})
_KEEP_STATEMENT_MAGICS = frozenset({"time", "timeit"})
_TIMEIT_VALUE_OPTIONS = frozenset({"-n", "-r", "-p"})
_AUTOMAGICS = frozenset(
    {
        "pip", "conda", "mamba", "matplotlib", "load_ext", "reload_ext", "unload_ext",
        "autoreload", "aimport", "cd", "pwd", "ls", "env", "pylab", "config", "who", "whos",
        "reset", "run", "mkdir", "rm", "cp", "mv", "cat", "set_env", "tensorboard",
        "pinfo", "history", "xmode", "precision", "autosave", "time", "timeit",
    }
)  # fmt: skip
_ASSIGN_MAGIC = re.compile(r"(?P<lhs>[A-Za-z_][\w.\[\]()\s,*]*?)\s*=\s*(?P<kind>[!%])\S")
_CELL_MAGIC = re.compile(r"%%(\w+)")
_HELP = re.compile(r"\?{1,2}[\w.*]+\??\??$|[\w.*]+\?{1,2}$")


def ipython_to_python(source: str) -> str | None:
    """IPython cell text as plain Python with the same lines, or None for a non-Python cell.

    Only lines that begin a statement are examined, so ``%`` and ``!`` inside
    strings, brackets or continued lines are left alone.
    """
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        match = _CELL_MAGIC.match(lines[first].lstrip())
        if match is None or match.group(1) not in _RUN_BODY_CELL_MAGICS:
            return None
        lines[first] = ""
    out: list[str] = []
    scan = _Scanner()
    magic_continues = False
    magic_indent = ""
    for line in lines:
        if magic_continues:
            out.append(magic_indent + "pass")
            magic_continues = line.endswith("\\")
            continue
        if not scan.at_statement_start():
            scan.feed(line)
            out.append(line)
            continue
        converted, is_magic = _convert_line(line)
        if is_magic:
            magic_indent = line[: len(line) - len(line.lstrip())]
            magic_continues = line.endswith("\\")
        scan.feed(converted)
        out.append(converted)
    return "\n".join(out)


def _convert_line(line: str) -> tuple[str, bool]:
    """One line at the start of a statement; returns (python, whether it was IPython)."""
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith("%"):
        word, _, rest = stripped[1:].partition(" ")
        if word in _KEEP_STATEMENT_MAGICS and rest.strip():
            statement = _strip_timeit_options(rest) if word == "timeit" else rest.strip()
            if statement and not statement.endswith("\\"):
                return indent + statement, False
        return indent + "pass", True
    if stripped.startswith("!"):
        return indent + "pass", True
    assign = _ASSIGN_MAGIC.match(stripped)
    if assign and "=" not in assign.group("lhs"):
        value = "[]" if assign.group("kind") == "!" else "None"
        return f"{indent}{assign.group('lhs').rstrip()} = {value}", True
    if not stripped or _parses(stripped):
        return line, False
    if _HELP.match(stripped.rstrip()):
        return indent + "pass", True
    word = re.match(r"\w+", stripped)
    if word and word.group(0) in _AUTOMAGICS and re.match(r"\w+(\s+[^\s=(]|\s*$)", stripped):
        return indent + "pass", True
    return line, False


def _strip_timeit_options(rest: str) -> str:
    """``-n 10 -r 3 f(x)`` → ``f(x)``."""
    words = rest.split()
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in _TIMEIT_VALUE_OPTIONS else 1
    return " ".join(words[i:])


class _Scanner:
    """Tracks open strings, brackets and backslash continuations across lines."""

    def __init__(self) -> None:
        self.quote: str | None = None
        self.depth = 0
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        comment = False
        while i < n:
            ch = line[i]
            if self.quote is not None:
                if ch == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                    continue
                i += 1
                continue
            if ch == "#":
                comment = True
                break
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            elif ch in "'\"":
                self.quote = ch * 3 if line.startswith(ch * 3, i) else ch
                i += len(self.quote)
                continue
            i += 1
        self.continued = not comment and line.endswith("\\")
        if self.quote is not None and len(self.quote) == 1 and not self.continued:
            self.quote = None  # an unclosed one-line string ends with its line
