"""Submission files on disk, kept byte for byte as uploaded, under the data dir."""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from service.models import Submission
from service.services.errors import Invalid, StorageFull, TooLarge
from service.settings import Settings

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,200}$")


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    sha256: str
    content_type: str


def check_name(name: str) -> str:
    """File names become paths: no directories, no dot-files, nothing unprintable."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise Invalid(f"file name {name!r} not accepted: use letters, digits, '.', '_', '-' "
                      "and no directories", code="bad_file_name")
    return name


def store_files(settings: Settings, key: str,
                files: list[tuple[str, str, BinaryIO]]) -> list[StoredFile]:
    """Stream uploads into ``submissions/<key>/``, enforcing the size limits as bytes arrive."""
    if not files:
        raise Invalid("no files uploaded: attach at least one file", code="no_files")
    if len(files) > settings.max_files:
        raise TooLarge(f"{len(files)} files uploaded; the limit is {settings.max_files}",
                       code="too_many_files")
    names = [check_name(n) for n, _, _ in files]
    if len(set(names)) != len(names):
        raise Invalid("two uploaded files have the same name", code="duplicate_file_name")
    target = settings.submissions_dir / key
    try:
        target.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise _storage_full() from exc
        raise
    stored, total = [], 0
    try:
        for name, ctype, stream in files:
            digest, size = hashlib.sha256(), 0
            with open(target / name, "xb") as out:
                while chunk := stream.read(1 << 16):
                    size += len(chunk)
                    total += len(chunk)
                    if size > settings.max_file_bytes:
                        raise TooLarge(f"{name} is larger than the limit of "
                                       f"{settings.max_file_bytes} bytes", code="file_too_large")
                    if total > settings.max_upload_bytes:
                        raise TooLarge(f"the upload is larger than the limit of "
                                       f"{settings.max_upload_bytes} bytes",
                                       code="upload_too_large")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise Invalid(f"{name} is empty", code="empty_file")
            stored.append(StoredFile(name, size, digest.hexdigest(), ctype or
                                     "application/octet-stream"))
    except OSError as exc:  # a full disk, part-way through a file
        shutil.rmtree(target, ignore_errors=True)
        if exc.errno in DISK_FULL:
            raise _storage_full() from exc
        raise
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return stored


def _storage_full() -> StorageFull:
    """A full disk (or quota) is a refusal the student can act on, not a server error."""
    return StorageFull("the server has no room to store this upload right now; nothing was "
                       "kept, please try again later", headers={"Retry-After": "60"})


def remove(settings: Settings, key: str) -> None:
    shutil.rmtree(settings.submissions_dir / key, ignore_errors=True)


def submission_paths(settings: Settings, sub: Submission) -> list[Path]:
    return [settings.submissions_dir / sub.storage_key / f.name for f in sub.files]


def file_path(settings: Settings, sub: Submission, name: str) -> Path:
    return settings.submissions_dir / sub.storage_key / check_name(name)


# What a download is served as, by our own table of extensions: never the type the
# student's browser claimed at upload (``text/html`` would make a page of our origin).
DOWNLOAD_TYPES = {".py": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                  ".md": "text/plain; charset=utf-8", ".csv": "text/plain; charset=utf-8",
                  ".ipynb": "application/json", ".json": "application/json",
                  ".zip": "application/zip"}
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "sandbox; default-src 'none'"}


def download_type(name: str) -> str:
    return DOWNLOAD_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def text_preview(path: Path, limit: int) -> str | None:
    """The file as text for a review page, cut at ``limit`` bytes; None if it is not text."""
    with path.open("rb") as f:
        head = f.read(limit + 1)
    if b"\0" in head:
        return None
    text = head[:limit].decode("utf-8", errors="replace")
    return text + "\n… (cut: the whole file is in the download)" if len(head) > limit else text
