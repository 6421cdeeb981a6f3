"""The data-set errors, one branch of the engine's tree.

    DlgradeError
    └── DatasetError             a data set cannot be used here
        ├── UnknownDataset       no data set has this name
        ├── DatasetMissing       not installed: the message carries the fetch command
        ├── CorruptDataset       installed but unreadable, or refused as unsafe
        └── DownloadFailed       no source gave a file with the published checksum
            └── ChecksumMismatch every source answered, none with the right bytes

They live in this package (not in ``graders/errors.py``) because only the
data-set code raises them. Messages are for the operator or instructor, who
can act on them: they name the file, the data set, and the command to run.
"""

from __future__ import annotations

from graders.errors import DlgradeError


class DatasetError(DlgradeError):
    """Base of every data-set error, so callers can catch the family at once."""


class UnknownDataset(DatasetError):
    pass


class DatasetMissing(DatasetError):
    """Raised by ``load`` when files are absent; graders report the problem as skipped.

    ``command`` is the exact shell command that installs the data set, kept
    apart from the message so a result can show it verbatim.
    """

    def __init__(self, name: str, command: str, detail: str) -> None:
        self.name = name
        self.command = command
        super().__init__(f"Data set {name} is not installed ({detail}). "
                         f"Install it with: {command}")


class CorruptDataset(DatasetError):
    pass


class DownloadFailed(DatasetError):
    pass


class ChecksumMismatch(DownloadFailed):
    pass
