"""Which data sets exist, where their files come from, and where they are kept.

The table below is the one place that names download sources and checksums.
Checksums are the MD5 digests that the data sets' maintainers publish:

- CIFAR-10: the authors' page, https://www.cs.toronto.edu/~kriz/cifar.html
  ("cifar-10-python.tar.gz ... md5sum c58f30108f718f92721af3b95e74349a").
- Fashion-MNIST: the "Get the Data" table of the README of
  https://github.com/zalandoresearch/fashion-mnist.
- MNIST: LeCun's page publishes only byte counts; the digests are the ones
  torchvision's ``datasets/mnist.py`` has verified the same files against for
  years. The byte counts are LeCun's.

MD5 is enough here: it guards against truncated or swapped downloads, and
nobody can craft a second file matching a digest published for a file they
did not make. The first source of each file is the official one; the
others are mirrors that serve byte-identical files, tried in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from graders.datasets.errors import DatasetError, UnknownDataset

DATA_DIR_ENV = "DLGRADE_DATA_DIR"
MIRROR_ENV = "DLGRADE_DATASETS_MIRROR"


@dataclass(frozen=True)
class RemoteFile:
    """One file as published: its name, digest, size in bytes, and base URLs."""

    filename: str
    md5: str
    size: int
    sources: tuple[str, ...]


@dataclass(frozen=True)
class DatasetSpec:
    """A data set: ``files`` is empty for one that ships inside a package."""

    name: str
    title: str
    files: tuple[RemoteFile, ...] = ()
    bundled_with: str = ""

    @property
    def download_size(self) -> int:
        return sum(f.size for f in self.files)


_LECUN = "https://yann.lecun.com/exdb/mnist/"
_OSSCI = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TORONTO = "https://www.cs.toronto.edu/~kriz/"

#: (data set, file name, MD5, bytes, sources): the checksum table.
_TABLE: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    ("mnist", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422,
     (_LECUN, _OSSCI)),
    ("mnist", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881,
     (_LECUN, _OSSCI)),
    ("mnist", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877,
     (_LECUN, _OSSCI)),
    ("mnist", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542,
     (_LECUN, _OSSCI)),
    ("fashion-mnist", "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880,
     (_ZALANDO, _KERAS)),
    ("fashion-mnist", "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29515,
     (_ZALANDO, _KERAS)),
    ("fashion-mnist", "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4422102,
     (_ZALANDO, _KERAS)),
    ("fashion-mnist", "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5148,
     (_ZALANDO, _KERAS)),
    ("cifar-10", "cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", 170498071,
     (_TORONTO,)),
)


def _files(name: str) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(f, md5, size, src) for ds, f, md5, size, src in _TABLE if ds == name)


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("mnist", "MNIST handwritten digits", _files("mnist")),
    "fashion-mnist": DatasetSpec("fashion-mnist", "Fashion-MNIST (Zalando)",
                                 _files("fashion-mnist")),
    "cifar-10": DatasetSpec("cifar-10", "CIFAR-10 (python version)", _files("cifar-10")),
    "digits": DatasetSpec("digits", "scikit-learn digits (8x8)",
                          bundled_with="scikit-learn"),
}


def spec(name: str) -> DatasetSpec:
    """The registry entry for ``name``; an unknown name lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(DATASETS)
        raise UnknownDataset(f"No data set named {name!r}; known: {known}.") from None


def data_dir() -> Path:
    """Where data sets live: ``$DLGRADE_DATA_DIR``, else the XDG data directory.

    Resolved on every call, never at import, so tests and services can point
    it elsewhere. A relative value is made absolute against the current
    directory, because the engine and the sandbox start in different ones.
    """
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    # The XDG spec says relative values are invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "dlgrade" / "datasets"


def dataset_dir(name: str, root: Path | None = None) -> Path:
    """The directory that holds one data set's files, as published."""
    return (root if root is not None else data_dir()) / spec(name).name


def mirror_url() -> str | None:
    """The mirror from ``$DLGRADE_DATASETS_MIRROR``, checked so a typo fails early."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    return check_mirror(value, MIRROR_ENV)


def check_mirror(value: str, key: str = "mirror") -> str:
    if not value.startswith(("http://", "https://")):
        raise DatasetError(f"{key} must be an http:// or https:// URL, got {value!r}.")
    return value.rstrip("/")
