"""Reading student code costs the grader bounded time and memory, and a clear refusal past that."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graders.engine.intake import check_upload
from graders.engine.submission import UploadLimits, ipython_to_python, load_submission
from graders.errors import CodeTooLarge, ReadingFailed, SubmissionError, UnreadableNotebook

ROOT = Path(__file__).resolve().parents[2]


def notebook(*sources: str, outputs: list[dict[str, object]] | None = None) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                   "outputs": outputs or [], "source": s} for s in sources]})


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


PATHOLOGICAL_LINES = [
    "a" + " " * 130_000 + "b",        # took 37 s: two quantifiers over the spaces before '='
    "a" + " " * 130_000 + "= b",
    "pip" + " " * 130_000 + "=",
]


@pytest.mark.parametrize("line", PATHOLOGICAL_LINES, ids=range(len(PATHOLOGICAL_LINES)))
def test_a_long_line_of_student_text_converts_in_well_under_a_second(line: str) -> None:
    started = time.process_time()
    assert ipython_to_python(line) is not None
    assert time.process_time() - started < 0.5


def test_a_notebook_with_a_130_kb_line_of_spaces_loads_in_well_under_a_second(
        tmp_path: Path) -> None:
    path = write(tmp_path / "hw.ipynb", notebook("x = 1\na" + " " * 130_000 + "b"))
    started = time.monotonic()
    sub = load_submission([path])
    assert time.monotonic() - started < 1.0
    assert sub.sources[0].cells[0].source.startswith("x = 1\na ")


def test_small_uploads_read_in_process_read_exactly_as_in_the_child(tmp_path: Path) -> None:
    real = ROOT / "tests/assignments/radboud_dl_a1/submissions/correct_notebook.ipynb"
    script = write(tmp_path / "extra.py", "%matplotlib inline\nfiles = !ls\nx = 5 % 3\n")
    here = load_submission([real, script], UploadLimits(inline_read_bytes=1_000_000))
    child = load_submission([real, script], UploadLimits(inline_read_bytes=0))
    assert here == child
    assert here.sources[1].cells[0].source == "pass\nfiles = []\nx = 5 % 3\n"
    assert here.notes == ["extra.py: IPython lines (magics, '!' commands) were left out."]


def test_a_code_file_over_the_code_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    path = write(tmp_path / "layers.py", "x = 0\n" * 200_000)  # 1.2 MB of valid Python
    with pytest.raises(CodeTooLarge, match=r"layers\.py is 1\.2 MB; the limit is 1 MB of code "
                                           r"per file\. Keep data in a data file"):
        load_submission([path])


def test_notebook_code_over_the_limit_is_refused_but_outputs_do_not_count(
        tmp_path: Path) -> None:
    image = {"output_type": "display_data", "metadata": {},
             "data": {"image/png": "iVBORw0KGgo" * 300_000}}  # 3.3 MB of plots
    plots = write(tmp_path / "plots.ipynb", notebook("import numpy as np\n", outputs=[image]))
    assert load_submission([plots]).sources[0].cells[0].source == "import numpy as np\n"
    pasted = write(tmp_path / "hw.ipynb", notebook("w = [" + "0.5, " * 110_000 + "]", "w"))
    with pytest.raises(CodeTooLarge, match=r"hw\.ipynb has 550 kB of code in its cells; the "
                                           r"limit is 500 kB per file"):
        load_submission([pasted], UploadLimits(max_code_bytes=500_000))


def test_code_over_the_total_limit_is_refused_naming_where_it_was_reached(
        tmp_path: Path) -> None:
    paths = [write(tmp_path / f"{n}.py", "x = 1\n" * 150) for n in "abc"]  # 900 bytes each
    limits = UploadLimits(max_code_bytes=1000, max_total_code_bytes=2000)
    with pytest.raises(CodeTooLarge, match=r"more than 2 kB of code in all \(reached at c\.py\)"):
        load_submission(paths, limits)


def test_parsing_a_megabyte_list_literal_costs_the_grader_no_memory(tmp_path: Path) -> None:
    """Parsing 1 MB of ``a,`` takes ~700 MB; it happens in the reader, not the grader."""
    path = write(tmp_path / "weights.py", "w = [" + "a," * 495_000 + "]\n")
    # VmHWM, not ru_maxrss: the latter starts at the RSS of the process that forked this one.
    probe = ("from pathlib import Path\n"
             "from graders.engine.submission import load_submission\n"
             f"sub = load_submission([Path({str(path)!r})])\n"
             "assert len(sub.sources[0].cells[0].source) > 990_000\n"
             "status = Path('/proc/self/status').read_text().split('VmHWM:')[1]\n"
             "print(int(status.split()[0]) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) < 200  # MB at its peak; ~750 when the grader parsed it


def test_code_needing_more_memory_than_the_reader_has_is_the_students_error(
        tmp_path: Path) -> None:
    path = write(tmp_path / "weights.py", "w = [" + "a," * 495_000 + "]\n")
    with pytest.raises(CodeTooLarge, match=r"Reading weights\.py needed more than the grader's "
                                           r"200 MB of memory"):
        load_submission([path], UploadLimits(read_memory_bytes=200 << 20))


def test_a_notebook_with_too_many_cells_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "hw.ipynb", notebook(*["%%bash\necho hi"] * 5001))
    with pytest.raises(UnreadableNotebook, match=r"hw\.ipynb has 5001 cells; the grader reads "
                                                 r"notebooks of up to 5000"):
        load_submission([path])


def test_a_reader_that_cannot_finish_is_the_graders_fault_not_the_students(
        tmp_path: Path) -> None:
    path = write(tmp_path / "a.py", "x = 1\n")
    with pytest.raises(ReadingFailed, match="wall-clock") as err:
        load_submission([path], UploadLimits(read_wall_s=0.001, inline_read_bytes=0))
    assert not isinstance(err.value, SubmissionError)


@pytest.mark.parametrize("inline", [1_000_000, 0], ids=["in process", "in the child"])
def test_a_notebook_with_an_integer_past_pythons_digit_limit_is_refused_at_upload(
        tmp_path: Path, inline: int) -> None:
    """json.loads raises a plain ValueError for it (no JSONDecodeError): it was a 500 at upload
    when read in process, and a reader crash retried as the grader's fault in the child."""
    text = notebook("x = 1").replace('"metadata": {}', '"metadata": {"n": ' + "7" * 5000 + "}", 1)
    path = write(tmp_path / "hw.ipynb", text)
    with pytest.raises(UnreadableNotebook, match=r"^hw\.ipynb holds an integer of more than "
                                                 r"4300 digits; no notebook has one"):
        check_upload([path], limits=UploadLimits(inline_read_bytes=inline))
