"""Turn what a student uploaded into plain Python source, refusing anything unsafe.

This is the trusted side: it only reads bytes and text and never runs student
code. Uploads arrive as single files, folders or zip archives; zips are read
member by member in memory (never extracted), with the archive's declared sizes
checked first and the bytes actually inflated counted as they come, so neither
a crafted name nor a lying header can touch the file system or exhaust memory.

Code files are not read here: their bytes go to ``textread`` in a child
process with a memory and a CPU limit, which decodes them, reads notebooks,
turns IPython syntax into Python and parses, and answers plain JSON. Parsing
costs far more memory than the code's size (a 20 MB list literal took 9.6 GB),
so the grader and the API never parse student code themselves.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from graders.errors import (
    CodeTooLarge,
    ReadingFailed,
    SubmissionError,
    UnreadableNotebook,
    UnsafeArchive,
)

from . import textread
from .textread import ipython_to_python

__all__ = ["Cell", "SourceFile", "Submission", "UploadLimits", "arrange", "ipython_to_python",
           "load_submission", "read_code"]

log = logging.getLogger("dlgrade.engine")

SourceKind = Literal["py", "notebook"]

_KINDS: dict[str, SourceKind] = {".py": "py", ".ipynb": "notebook"}
_IGNORED_PARTS = frozenset({"__pycache__", "__MACOSX"})  # dot-names are ignored too
_IGNORED_SUFFIXES = (".pyc", ".pyo")
_CHUNK = 1 << 16
_TEXTREAD = Path(__file__).with_name("textread.py")
_REFUSALS: dict[Any, type[SubmissionError]] = {
    "SubmissionError": SubmissionError, "UnreadableNotebook": UnreadableNotebook,
    "CodeTooLarge": CodeTooLarge}
# A zip's end records and central directory entries, as zipfile reads them (APPNOTE 4.3).
_END = struct.Struct("<4s4H2LH")             # end of central directory: 22 bytes + comment
_END64_LOCATOR = struct.Struct("<4sLQL")     # zip64 locator, right before the end record
_END64 = struct.Struct("<4sQ2H2L4Q")         # zip64 end record, right before the locator
_ENTRY_SIZE = 46                             # a central directory entry before its names
_ENTRY_BYTES = 46 + 4 * 255 + 512            # an entry with a 255-character name and extras
# Beyond the code (6 bytes a character at worst, as \u escapes): a label and a note for each
# of at most textread.MAX_CELLS cells, each under 2 kB with a 255-character name escaped.
_REPLY_SLACK = 24_000_000


@dataclass(frozen=True)
class UploadLimits:
    """How much one submission may hold, across every file and archive in it.

    The compression ratio is only checked for members larger than
    ``ratio_floor_bytes``: a small, very regular file (a CSV of zeros) packs
    far better than 100:1 and is harmless; the byte limits stop real bombs.

    Code is held to far less than files: parsing takes hundreds of bytes of
    memory per byte of code, so a course's code (tens of kB per file) passes
    and a megabyte list literal does not. Code files of ``inline_read_bytes``
    or less in all are read in this process; larger ones in a child with
    ``read_memory_bytes`` of address space and ``read_cpu_s`` of CPU.
    """

    max_files: int = 200
    max_file_bytes: int = 20_000_000
    max_total_bytes: int = 100_000_000
    max_ratio: float = 100.0
    max_name_length: int = 255
    ratio_floor_bytes: int = 1_000_000
    inline_read_bytes: int = 64_000
    max_code_bytes: int = 1_000_000
    max_total_code_bytes: int = 2_000_000
    read_memory_bytes: int = 1 << 30
    read_cpu_s: int = 10
    read_wall_s: float = 60.0

    @property
    def max_zip_entries(self) -> int:
        """Entries a zip may list: its files, plus their folders and ``__MACOSX`` twins."""
        return 4 * self.max_files + 100


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
    sources, notes = read_code(builder.code, limits)
    builder.submission.sources, builder.submission.notes = sources, notes
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
        self.code: list[tuple[str, SourceKind, bytes]] = []

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
        """File one checked file as code or data, by its suffix."""
        self.seen.add(name)
        self.total += len(data)
        if self.total > self.limits.max_total_bytes:
            raise self.limit_error(name, len(data))
        kind = _KINDS.get(os.path.splitext(name)[1].lower())
        if kind is None:
            self.submission.data_files[name] = data
        else:
            self.code.append((name, kind, data))  # read all at once, in a child, at the end

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
            _check_directory(raw, shown, self.limits.max_zip_entries)
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
        if len(infos) > self.limits.max_zip_entries:
            raise UnsafeArchive(
                f"{shown} has {len(infos)} entries; the limit is {self.limits.max_files} files."
            )
        for info in sorted(infos, key=lambda i: i.orig_filename):
            parts = member_parts(info, shown)
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


def _check_directory(raw: BinaryIO, shown: str, max_entries: int) -> None:
    """Refuse a zip whose central directory lists more than ``max_entries`` entries or is
    larger than that many entries need, before ``zipfile`` reads it.

    ``zipfile.ZipFile`` builds an object for every entry before any limit can be
    applied, in the API's request thread: a 46 MB zip of 1,000,000 empty entries
    cost 358 MB and 7.9 s of CPU. So the directory is found exactly as zipfile
    finds it (the end record last, or the last signature in the final 64 kB; a
    zip64 record right before it) and its entries are counted as zipfile walks
    them, stopping past the limit. What zipfile would refuse anyway (no end
    record, a broken entry) is left for it to say.
    """
    size = raw.seek(0, os.SEEK_END)
    start = max(size - (1 << 16) - _END.size, 0)
    raw.seek(start)
    tail = raw.read()
    if tail[-_END.size:-_END.size + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        at = len(tail) - _END.size  # no comment: zipfile's first guess
    else:
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _END.size > len(tail):
            return
    _, _, _, _, entries, directory, _, _ = _END.unpack_from(tail, at)
    end = start + at
    if end >= _END64_LOCATOR.size + _END64.size:
        raw.seek(end - _END64_LOCATOR.size - _END64.size)
        record = raw.read(_END64.size + _END64_LOCATOR.size)
        if (record[_END64.size:_END64.size + 4] == b"PK\x06\x07"
                and record[:4] == b"PK\x06\x06"):
            _, _, _, _, _, _, _, entries, directory, _ = _END64.unpack_from(record)
            end -= _END64.size + _END64_LOCATOR.size
    if entries > max_entries:
        raise UnsafeArchive(f"{shown} lists {entries} files and folders; the limit is "
                            f"{max_entries}.")
    if directory > max_entries * _ENTRY_BYTES:
        raise UnsafeArchive(f"{shown} has a directory of {_size(directory)}; {max_entries} "
                            f"entries need at most {_size(max_entries * _ENTRY_BYTES)}.")
    if end < directory:
        return  # zipfile: "Bad offset for central directory"
    raw.seek(end - directory)
    listing = raw.read(directory)
    at = count = 0
    while at + _ENTRY_SIZE <= len(listing) and listing[at:at + 4] == b"PK\x01\x02":
        count += 1
        if count > max_entries:
            raise UnsafeArchive(f"{shown} lists more than {max_entries} files and folders; "
                                f"the limit is {max_entries}.")
        names, extra, comment = struct.unpack_from("<3H", listing, at + 28)
        at += _ENTRY_SIZE + names + extra + comment


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


def member_parts(info: zipfile.ZipInfo, shown: str) -> list[str]:
    """A zip member's path parts, once it is safe to unpack: a UTF-8, relative name with
    no ``..``, and a regular file or a folder (no link, no device)."""
    name = _member_name(info, shown)
    where = f"{shown} (member {name!r})"
    parts = _safe_parts(name, info.orig_filename, shown)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeArchive(f"{where} is a symbolic link; links are not accepted.")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchive(f"{where} is a special file, not a regular file.")
    return parts


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


def read_code(files: Sequence[tuple[str, SourceKind, bytes]], limits: UploadLimits
              ) -> tuple[list[SourceFile], list[str]]:
    """Code files as cells, converted by ``textread``, in a child process unless they are small.

    The child gets the files on stdin and answers one JSON object, which is
    bounded and shape-checked here before anything is built from it. A child
    stopped by its CPU limit is the code's doing (``CodeTooLarge``); one that
    fails otherwise, or outlives the wall-clock limit, is the grader's
    (``ReadingFailed``), and the job is tried again.
    """
    if not files:
        return [], []
    if sum(len(data) for _, _, data in files) <= limits.inline_read_bytes:
        answer = _read_here(files, limits)
    else:
        answer = _read_in_child(files, limits)
    return _from_reply(answer, [name for name, _, _ in files])


def _read_here(files: Sequence[tuple[str, SourceKind, bytes]], limits: UploadLimits
               ) -> dict[str, Any]:
    """The child's answer, computed in this process: for a few kB the child's start costs
    ten times the reading, and parsing 64 kB costs at most ~50 MB and a tenth of a second."""
    try:
        return textread.read_files(files, limits.max_code_bytes, limits.max_total_code_bytes)
    except textread.Refused as e:
        return {"error": {"kind": e.kind, "message": str(e)}}


def _read_in_child(files: Sequence[tuple[str, SourceKind, bytes]], limits: UploadLimits
                   ) -> Any:
    """``textread.py`` run as a script under the limits, with the files on its stdin."""
    header = {"max_code": limits.max_code_bytes, "max_total": limits.max_total_code_bytes,
              "files": [{"name": name, "kind": kind, "size": len(data)}
                        for name, kind, data in files]}
    command = [sys.executable, "-I", "-S", str(_TEXTREAD), str(limits.read_memory_bytes),
               str(limits.read_cpu_s)]
    with (tempfile.TemporaryFile() as request, tempfile.TemporaryFile() as reply,
          tempfile.TemporaryFile() as errors):
        request.write(json.dumps(header).encode() + b"\n")
        for _, _, data in files:
            request.write(data)
        request.seek(0)
        child = subprocess.Popen(command, stdin=request, stdout=reply, stderr=errors)
        try:
            status = child.wait(timeout=limits.read_wall_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise ReadingFailed(f"Reading the code did not finish within "
                                f"{limits.read_wall_s:g} s of wall-clock time; the grader's "
                                "machine is overloaded.") from None
        if status == -signal.SIGXCPU:
            raise CodeTooLarge(f"Reading the code took more than {limits.read_cpu_s} s of CPU "
                               "time; code this large or this deeply nested cannot be graded.")
        size = os.fstat(reply.fileno()).st_size
        if status != 0 or size > 6 * limits.max_total_code_bytes + _REPLY_SLACK:
            errors.seek(0)
            log.error("the code reader failed (exit %s, %d bytes of reply): %s", status, size,
                      errors.read(4000).decode("utf-8", "replace"))
            raise ReadingFailed(f"The code reader failed (exit status {status}).")
        reply.seek(0)
        return json.loads(reply.read())


def _from_reply(answer: Any, names: list[str]) -> tuple[list[SourceFile], list[str]]:
    """The child's answer as source files, or the refusal it carries; anything else is a bug."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        refusal = _REFUSALS.get(error.get("kind"))
        if refusal is not None:
            raise refusal(error["message"])
    try:
        sources = [SourceFile(f["name"], f["kind"], [Cell(_text(c["label"]), _text(c["source"]))
                                                     for c in f["cells"]])
                   for f in answer["files"]]
        notes = [_text(n) for n in answer["notes"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ReadingFailed(f"The code reader answered in an unexpected shape ({exc!r}).") from None
    if [s.name for s in sources] != names or any(s.kind not in _KINDS.values() for s in sources):
        raise ReadingFailed("The code reader answered for other files than it was given.")
    return sources, notes


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value
