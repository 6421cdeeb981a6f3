"""Real data sets for the training problems: a registry, loaders, and a verified fetch.

Grading never downloads: ``load`` reads what ``dlgrade datasets fetch NAME``
installed under ``data_dir()`` and raises ``DatasetMissing`` (carrying that
command) otherwise, so a problem can be reported as skipped.

    from graders import datasets
    mnist = datasets.load("mnist")          # Dataset(x_train, y_train, x_test, y_test)
    datasets.fetch("cifar-10")              # official source, MD5 verified
"""

from graders.datasets.download import fetch, md5sum
from graders.datasets.errors import (
    ChecksumMismatch,
    CorruptDataset,
    DatasetError,
    DatasetMissing,
    DownloadFailed,
    UnknownDataset,
)
from graders.datasets.registry import DATASETS, DatasetSpec, RemoteFile, data_dir, dataset_dir
from graders.datasets.store import Dataset, fetch_command, installed_size, is_installed, load

__all__ = [
    "DATASETS",
    "ChecksumMismatch",
    "CorruptDataset",
    "Dataset",
    "DatasetError",
    "DatasetMissing",
    "DatasetSpec",
    "DownloadFailed",
    "RemoteFile",
    "UnknownDataset",
    "data_dir",
    "dataset_dir",
    "fetch",
    "fetch_command",
    "installed_size",
    "is_installed",
    "load",
    "md5sum",
]
