"""Where uploaded files are loaded: ``Assignment.layout`` and ``engine.submission.arrange``.

The engine rule is general; these cases are the ones homework 3 relies on:
``fc_net.py`` uploaded on its own must become ``nndl/fc_net.py`` for its
``from .layers import *`` to work.
"""

from __future__ import annotations

from graders.engine.submission import Cell, SourceFile, Submission, arrange

LAYOUT = ("nndl/neural_net.py", "nndl/layers.py", "nndl/fc_net.py", "nndl/layer_utils.py")


def submission(*names: str) -> Submission:
    sources = [SourceFile(n, "py", [Cell(n, f"# {n}\n")]) for n in names]
    return Submission(sources, {"hyperparams.json": b"{}"}, [])


def names(sub: Submission) -> list[str]:
    return [s.name for s in sub.sources]


def test_loose_files_move_into_the_package_with_a_note() -> None:
    before = submission("fc_net.py", "layers.py", "neural_net.py", "helpers.py")
    after = arrange(before, LAYOUT)
    assert names(after) == ["nndl/fc_net.py", "nndl/layers.py", "nndl/neural_net.py",
                            "helpers.py"]
    assert after.sources[0].cells == before.sources[0].cells
    assert "fc_net.py was loaded as nndl/fc_net.py, where the course's files belong." in (
        after.notes)
    assert after.data_files == before.data_files
    assert names(before)[0] == "fc_net.py"  # the caller's submission is left as it was


def test_a_parent_folder_is_dropped_but_other_folders_are_not_guessed() -> None:
    after = arrange(submission("hw3/nndl/layers.py", "hw3/layers_old/layers.py.bak.py",
                               "other/fc_net_v2.py"), LAYOUT)
    assert names(after) == ["nndl/layers.py", "hw3/layers_old/layers.py.bak.py",
                            "other/fc_net_v2.py"]


def test_a_file_already_in_place_wins_and_the_others_keep_their_names() -> None:
    after = arrange(submission("layers.py", "nndl/layers.py"), LAYOUT)
    assert names(after) == ["layers.py", "nndl/layers.py"]


def test_of_several_stand_ins_the_last_uploaded_moves() -> None:
    after = arrange(submission("a/nndl/layers.py", "layers.py"), LAYOUT)
    assert names(after) == ["a/nndl/layers.py", "nndl/layers.py"]


def test_no_layout_changes_nothing() -> None:
    before = submission("layers.py")
    assert arrange(before, ()) is before
