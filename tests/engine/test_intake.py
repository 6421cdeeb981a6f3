"""Uploads that cannot earn a point are refused before grading, saying why."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from graders.engine.intake import check_upload
from graders.errors import NothingToGrade

GRADED = ("nndl/neural_net.py", "nndl/layers.py", "nndl/fc_net.py")


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def notebook(*cells: tuple[str, str]) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": kind, "metadata": {}, "source": source}
        | ({"outputs": [], "execution_count": None} if kind == "code" else {})
        for kind, source in cells]})


def test_an_upload_without_code_names_what_it_got(tmp_path: Path) -> None:
    paths = [write(tmp_path / "report.pdf", b"%PDF-1.7\n"), write(tmp_path / "notes.txt", "hi")]
    with pytest.raises(NothingToGrade, match=r"no code to grade \(notes\.txt, report\.pdf\): "
                                             r"upload your \.py files or your notebook"):
        check_upload(paths)


def test_a_notebook_whose_cells_are_all_markdown_or_dropped_magics_is_refused(
        tmp_path: Path) -> None:
    path = write(tmp_path / "hw.ipynb", notebook(("markdown", "# Answers"),
                                                 ("code", "%%bash\nls"), ("code", "  \n")))
    with pytest.raises(NothingToGrade, match=r"hw\.ipynb holds no code cells or only empty"):
        check_upload([path])


def test_an_upload_with_none_of_the_graded_files_is_refused_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path / "hw3.ipynb", notebook(("code", "from nndl.layers import *")))
    with pytest.raises(NothingToGrade, match=r"none of the files this assignment grades "
                                             r"\(nndl/neural_net\.py, nndl/layers\.py, "
                                             r"nndl/fc_net\.py\)"):
        check_upload([path], GRADED)


def test_some_of_the_graded_files_loose_or_in_a_zipped_folder_are_enough(tmp_path: Path) -> None:
    loose = write(tmp_path / "loose" / "layers.py", "def relu(x):\n    return x\n")
    assert check_upload([loose], GRADED).sources[0].name == "layers.py"
    archive = tmp_path / "hw3.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hw3/nndl/fc_net.py", "class FullyConnectedNet:\n    pass\n")
        zf.writestr("hw3/notes.md", "done")
    assert check_upload([archive], GRADED).sources[0].name == "hw3/nndl/fc_net.py"


def test_the_ucla_assignment_declares_its_graded_files_to_the_service() -> None:
    from service.grading import EngineGrader
    from service.settings import Settings

    grader = EngineGrader(Settings(warm_sandboxes=0))
    assert grader.assignment("ucla-c247-hw3").graded_files == GRADED
    assert grader.assignment("radboud-dl-a1").graded_files == ()
