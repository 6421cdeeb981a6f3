"""Reading uploads: forms, limits, hostile archives, notebooks and IPython syntax."""

from __future__ import annotations

import ast
import io
import json
import os
import stat
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from graders.engine.submission import (
    UploadLimits,
    ipython_to_python,
    load_submission,
)
from graders.errors import SubmissionError, UnreadableNotebook, UnsafeArchive


def notebook(*cells: tuple[str, str], **top: object) -> str:
    """A format-4 notebook from (cell_type, source) pairs."""
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": [
            {"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source}
            | ({"outputs": [], "execution_count": None} if kind == "code" else {})
            for i, (kind, source) in enumerate(cells)
        ],
    }
    nb.update(top)
    return json.dumps(nb)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def make_zip(path: Path, members: dict[str, bytes | str], **kw: object) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kw) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def patch_both_headers(data: bytes, local_offset: int, central_offset: int, value: bytes) -> bytes:
    """Overwrite a field in the first local header and the first central directory entry."""
    buf = bytearray(data)
    local = buf.index(b"PK\x03\x04")
    central = buf.index(b"PK\x01\x02")
    buf[local + local_offset : local + local_offset + len(value)] = value
    buf[central + central_offset : central + central_offset + len(value)] = value
    return bytes(buf)


# ---- plain files and folders ----------------------------------------------------------------


def test_single_py_file_is_one_cell_labelled_with_its_name(tmp_path: Path) -> None:
    sub = load_submission([write(tmp_path / "layers.py", "def f():\n    return 1\n")])
    [source] = sub.sources
    assert (source.name, source.kind) == ("layers.py", "py")
    assert [(c.label, c.source) for c in source.cells] == [
        ("layers.py", "def f():\n    return 1\n")
    ]


def test_files_keep_upload_order_and_data_files_are_kept_as_bytes(tmp_path: Path) -> None:
    b = write(tmp_path / "b.py", "x = 1\n")
    a = write(tmp_path / "a.ipynb", notebook(("code", "y = 2")))
    h = write(tmp_path / "hyperparams.json", b'{"lr": 0.1}')
    sub = load_submission([b, h, a])
    assert [s.name for s in sub.sources] == ["b.py", "a.ipynb"]
    assert sub.data_files == {"hyperparams.json": b'{"lr": 0.1}'}
    assert sub.harness_files()[1] == {
        "name": "a.ipynb",
        "cells": [{"label": "a.ipynb cell 1", "source": "y = 2"}],
    }


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    sub = load_submission([write(tmp_path / "a.py", b"\xef\xbb\xbfx = 1\n")])
    assert sub.sources[0].cells[0].source == "x = 1\n"


def test_non_utf8_file_names_file_offset_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.py", b"x = 1\ns = 'caf\xe9'\n")
    with pytest.raises(SubmissionError) as err:
        load_submission([path])
    message = str(err.value)
    assert "a.py" in message and "0xe9" in message and "offset 14" in message
    assert "line 2" in message


def test_folder_is_walked_sorted_skipping_caches_and_hidden_files(tmp_path: Path) -> None:
    root = tmp_path / "hw3"
    write(root / "nndl" / "layers.py", "a = 1\n")
    write(root / "nndl" / "fc_net.py", "b = 1\n")
    write(root / "nndl" / "__pycache__" / "layers.cpython-311.pyc", b"\x00\x01")
    write(root / ".ipynb_checkpoints" / "x-checkpoint.ipynb", "not json")
    write(root / ".DS_Store", b"\x00\xff")
    write(root / "hyperparams.json", "{}")
    sub = load_submission([root])
    assert [s.name for s in sub.sources] == ["nndl/fc_net.py", "nndl/layers.py"]
    assert list(sub.data_files) == ["hyperparams.json"]


def test_symlink_in_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sub"
    write(root / "a.py", "x = 1\n")
    os.symlink("/etc/passwd", root / "b.py")
    with pytest.raises(UnsafeArchive, match=r"b\.py"):
        load_submission([root])


def test_symlinked_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sub"
    write(root / "a.py", "x = 1\n")
    os.symlink("/etc", root / "etc")
    with pytest.raises(UnsafeArchive, match="etc"):
        load_submission([root])


def test_non_utf8_file_name_in_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sub"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "w") as f:
        f.write("x = 1\n")
    with pytest.raises(SubmissionError, match="not UTF-8"):
        load_submission([root])


def test_too_many_files_says_the_limit(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"f{i}.py", "x = 1\n") for i in range(4)]
    with pytest.raises(UnsafeArchive, match="more than 3 files"):
        load_submission(paths, UploadLimits(max_files=3))


def test_file_over_the_per_file_limit_says_both_sizes(tmp_path: Path) -> None:
    path = write(tmp_path / "big.py", "x = 1\n" * 500)
    with pytest.raises(UnsafeArchive) as err:
        load_submission([path], UploadLimits(max_file_bytes=1000))
    assert "big.py is 3 kB" in str(err.value) and "1 kB per file" in str(err.value)


def test_total_size_over_the_limit(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"f{i}.py", "x = 1\n" * 100) for i in range(3)]
    with pytest.raises(UnsafeArchive, match="larger than 1 kB in total"):
        load_submission(paths, UploadLimits(max_total_bytes=1000))


def test_two_uploads_with_the_same_name_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path / "one" / "a.py", "x = 1\n")
    b = write(tmp_path / "two" / "a.py", "x = 2\n")
    with pytest.raises(SubmissionError, match=r"Two files are named a\.py"):
        load_submission([a, b])


def test_absurdly_long_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / ("a" * 40 + ".py"), "x = 1\n")
    with pytest.raises(SubmissionError, match="the limit is 20"):
        load_submission([path], UploadLimits(max_name_length=20))


# ---- zip archives ---------------------------------------------------------------------------


def test_zip_of_a_package_keeps_paths_and_skips_macos_junk(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "hw3.zip",
        {
            "nndl/": "",
            "nndl/layers.py": "def affine_forward(x, w, b):\n    return x\n",
            "nndl/fc_net.py": "from .layers import *\n",
            "__MACOSX/nndl/._layers.py": b"\x00\x05\x16\x07\xff",
            "hyperparams.json": '{"fc_net": {}}',
        },
    )
    sub = load_submission([path])
    assert [s.name for s in sub.sources] == ["nndl/fc_net.py", "nndl/layers.py"]
    assert sub.data_files == {"hyperparams.json": b'{"fc_net": {}}'}


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../evil.py", "'..'"),
        ("nndl/../../evil.py", "'..'"),
        ("/etc/cron.d/evil", "absolute"),
        ("C:/Windows/evil.py", "absolute"),
        ("..\\evil.py", "backslash"),
    ],
)
def test_zip_member_paths_that_leave_the_archive_are_refused(
    tmp_path: Path, member: str, reason: str
) -> None:
    path = make_zip(tmp_path / "s.zip", {"ok.py": "x = 1\n", member: "x = 2\n"})
    with pytest.raises(UnsafeArchive) as err:
        load_submission([path])
    assert reason in str(err.value) and "s.zip" in str(err.value)


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("link.py")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchive, match=r"link\.py.*symbolic link"):
        load_submission([path])


def test_zip_with_too_many_members_is_refused_before_reading(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s.zip", {f"f{i}.py": "x = 1\n" for i in range(5)})
    with pytest.raises(UnsafeArchive, match="more than 4 files"):
        load_submission([path], UploadLimits(max_files=4))


def test_zip_member_over_the_per_file_limit_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s.zip", {"data.npy": b"\x01" * 5000})
    with pytest.raises(UnsafeArchive, match=r"data.npy in s.zip is 5 kB uncompressed"):
        load_submission([path], UploadLimits(max_file_bytes=4000))


def test_zip_expanding_over_the_total_limit_is_refused(tmp_path: Path) -> None:
    members = {f"d{i}.bin": os.urandom(400) for i in range(4)}
    path = make_zip(tmp_path / "s.zip", members)
    with pytest.raises(UnsafeArchive, match="expands to more than 1 kB"):
        load_submission([path], UploadLimits(max_total_bytes=1000))


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s.zip", {"zeros.bin": b"\x00" * 3_000_000})
    with pytest.raises(UnsafeArchive, match=r"compressed \d+:1.*the limit is 100:1"):
        load_submission([path])


def test_small_very_compressible_file_is_not_a_bomb(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s.zip", {"zeros.csv": "0," * 50_000})
    assert load_submission([path]).data_files["zeros.csv"] == b"0," * 50_000


def test_zip_header_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    honest = make_zip(tmp_path / "h.zip", {"big.bin": b"\x01" * 2_000_000}).read_bytes()
    lying = patch_both_headers(honest, 22, 24, struct.pack("<I", 10))
    path = write(tmp_path / "s.zip", lying)
    with pytest.raises(SubmissionError, match=r"big\.bin in s\.zip"):
        load_submission([path])


def test_encrypted_zip_member_is_refused(tmp_path: Path) -> None:
    plain = make_zip(tmp_path / "h.zip", {"a.py": "x = 1\n"}).read_bytes()
    path = write(tmp_path / "s.zip", patch_both_headers(plain, 6, 8, b"\x01\x00"))
    with pytest.raises(SubmissionError, match="password-protected"):
        load_submission([path])


def test_zip_member_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    data = make_zip(tmp_path / "h.zip", {"cafX.py": "x = 1\n"}).read_bytes()
    path = write(tmp_path / "s.zip", data.replace(b"cafX.py", b"caf\xe9.py"))
    with pytest.raises(SubmissionError, match="not UTF-8"):
        load_submission([path])


def test_zip_member_name_in_utf8_without_the_flag_is_read(tmp_path: Path) -> None:
    data = make_zip(tmp_path / "h.zip", {"cafXX.py": "x = 1\n"}).read_bytes()
    path = write(tmp_path / "s.zip", data.replace(b"cafXX.py", "café.py".encode()))
    assert load_submission([path]).sources[0].name == "café.py"


def test_zip_with_a_member_twice_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a.py", "x = 1\n")
        zf.writestr("a.py", "x = 2\n")
    with pytest.raises(UnsafeArchive, match=r"a\.py twice"):
        load_submission([write(tmp_path / "s.zip", buf.getvalue())])


def test_corrupt_zip_says_so(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match=r"s\.zip is not a readable zip archive"):
        load_submission([write(tmp_path / "s.zip", b"PK\x03\x04 garbage")])


def directory_only_zip(count: int, declared: int, *, zip64: bool = False) -> bytes:
    """A zip that is a central directory of ``count`` empty files and its end record, which
    says ``declared``: all ``zipfile.ZipFile`` reads before it builds one object per entry."""
    entry = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0,
                        7, 0, 0, 0, 0, 0o100644 << 16, 0)
    listing = b"".join(entry + b"%07d" % i for i in range(count))
    short = min(declared, 0xFFFF)
    if not zip64:
        return listing + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, short, short,
                                     len(listing), 0, 0)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared,
                         len(listing), 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(listing), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                      0xFFFFFFFF, 0)
    return listing + record + locator + end


@pytest.mark.parametrize(("count", "declared", "zip64", "message"), [
    (200_000, 0xFFFF, False, "lists 65535 files and folders; the limit is 900"),
    (200_000, 200_000, True, "lists 200000 files and folders; the limit is 900"),
    (200_000, 1, False, "has a directory of 10.6 MB; 900 entries need at most 1.4 MB"),
    (25_000, 1, False, "lists more than 900 files and folders; the limit is 900"),
], ids=["declared", "declared in zip64", "directory too large", "counted"])
def test_a_zip_listing_too_many_entries_is_refused_before_zipfile_reads_them(
        tmp_path: Path, count: int, declared: int, zip64: bool, message: str) -> None:
    """zipfile builds an object per entry before our limit applied: 1,000,000 empty entries
    (46 MB) cost the API's request thread 358 MB and 7.9 s of CPU."""
    path = write(tmp_path / "s.zip", directory_only_zip(count, declared, zip64=zip64))
    tracemalloc.start()
    started = time.process_time()
    try:
        with pytest.raises(UnsafeArchive, match=f"^s\\.zip {message}"):
            load_submission([path])
        spent = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000 and spent < 0.25, (peak, spent)


def test_a_zip_with_an_archive_comment_or_many_folders_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(150):
            zf.writestr(f"hw/part{i}/", "")
        zf.writestr("hw/a.py", "x = 1\n")
        zf.comment = b"made by a zip tool that signs its archives"
    assert load_submission([path], UploadLimits(max_files=20)).sources[0].name == "hw/a.py"


# ---- notebooks ------------------------------------------------------------------------------


def test_notebook_cells_are_numbered_among_all_cells(tmp_path: Path) -> None:
    nb = notebook(("markdown", "# Title"), ("code", "x = 1"), ("raw", "r"), ("code", ["y = ", "2"]))
    sub = load_submission([write(tmp_path / "hw1.ipynb", nb)])
    assert [(c.label, c.source) for c in sub.sources[0].cells] == [
        ("hw1.ipynb cell 2", "x = 1"),
        ("hw1.ipynb cell 4", "y = 2"),
    ]


def test_notebook_that_is_not_json_gives_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(UnreadableNotebook, match=r"hw1.ipynb is not valid JSON \(line 2, column"):
        load_submission([write(tmp_path / "hw1.ipynb", '{"cells": [\n  oops]}')])


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(UnreadableNotebook, match="nested more than 100 levels"):
        load_submission([write(tmp_path / "a.ipynb", deep)])
    medium = '{"nbformat": 4, "cells": [], "metadata": ' + "[" * 500 + "]" * 500 + "}"
    with pytest.raises(UnreadableNotebook, match="nested"):
        load_submission([write(tmp_path / "b.ipynb", medium)])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "its JSON is not an object"),
        ('{"cells": []}', "no 'nbformat' number"),
        ('{"nbformat": 3, "worksheets": []}', "format 3, from before 2015"),
        ('{"nbformat": 4, "metadata": {}}', "no list of 'cells'"),
        (notebook(("code", "1"), metadata={"kernelspec": {"language": "R"}}), "R notebook"),
    ],
)
def test_json_that_is_not_a_usable_notebook_says_why(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(UnreadableNotebook, match=message):
        load_submission([write(tmp_path / "hw.ipynb", content)])


def test_notebook_with_schema_violations_but_usable_cells_is_read_with_a_note(
    tmp_path: Path,
) -> None:
    nb = json.loads(notebook(("code", "x = 1")))
    del nb["cells"][0]["outputs"]  # required by the schema, irrelevant to us
    nb["cells"][0]["execution_count"] = "seven"
    sub = load_submission([write(tmp_path / "hw.ipynb", json.dumps(nb))])
    assert sub.sources[0].cells[0].source == "x = 1"
    assert any("does not fully follow format 4" in n for n in sub.notes)


def test_notebook_not_utf8_is_unreadable(tmp_path: Path) -> None:
    text = notebook(("code", "s = 'X'")).replace("'X'", "'\u00e9'")
    path = write(tmp_path / "hw.ipynb", text.encode("latin-1"))
    with pytest.raises(UnreadableNotebook, match=r"hw\.ipynb is not UTF-8"):
        load_submission([path])


def test_notebook_cell_magics_run_body_or_drop_the_cell(tmp_path: Path) -> None:
    nb = notebook(
        ("code", "%%time\nx = 1\n%matplotlib inline"),
        ("code", "%%bash\npip install torch"),
        ("code", "%%writefile helper.py\ndef f(): pass"),
        ("code", "%%capture out\ny = 2"),
    )
    sub = load_submission([write(tmp_path / "hw.ipynb", nb)])
    cells = {c.label: c.source for c in sub.sources[0].cells}
    assert cells == {"hw.ipynb cell 1": "\nx = 1\npass", "hw.ipynb cell 4": "\ny = 2"}
    assert any("hw.ipynb cell 2: a %%bash cell" in n for n in sub.notes)
    assert any("hw.ipynb cell 3: a %%writefile cell" in n for n in sub.notes)


def test_real_student_notebook_is_read() -> None:
    path = Path("/work/shared/examples/nyu-dl-hw1-student.ipynb")
    if not path.exists():
        pytest.skip("example notebook not available")
    [source] = load_submission([path]).sources
    labels = [c.label for c in source.cells]
    assert labels[0] == "nyu-dl-hw1-student.ipynb cell 5"
    cell14 = next(c for c in source.cells if c.label.endswith("cell 14"))
    assert cell14.source.splitlines()[1] == "pass"  # %matplotlib inline
    for cell in source.cells:
        ast.parse(cell.source)


# ---- IPython syntax to Python ---------------------------------------------------------------


def test_magics_become_python_with_the_same_line_numbers() -> None:
    src = "\n".join(
        [
            "import numpy as np",
            "%matplotlib inline",
            "%load_ext autoreload",
            "!pip install tqdm",
            "files = !ls data",
            "cfg = %config",
            "%time x = np.ones(3)",
            "%timeit -n 10 -r 3 y = x.sum()",
            "for i in range(2):",
            "    !echo {i}",
            "np.sum?",
            "??np.mean",
            "pip install seaborn",
            "z = 3",
        ]
    )
    out = ipython_to_python(src)
    assert out is not None
    lines = out.split("\n")
    assert len(lines) == len(src.split("\n"))
    assert lines[1:5] == ["pass", "pass", "pass", "files = []"]
    assert lines[5:8] == ["cfg = None", "x = np.ones(3)", "y = x.sum()"]
    assert lines[9:13] == ["    pass", "pass", "pass", "pass"]
    assert lines[13] == "z = 3"
    ast.parse(out)


def test_percent_and_bang_inside_strings_brackets_and_comments_are_left_alone() -> None:
    src = (
        's = """\n%not a magic\n!not a shell\n"""\n'
        "t = (1,\n"
        "     %2)\n"
        "u = 5 % 3  # what?\n"
        "print(u,  # why?\n"
        "      1)\n"
        "v = 'a' \\\n"
        "    '!b'\n"
    )
    assert ipython_to_python(src) == src


def test_magic_continued_with_backslash_drops_every_line() -> None:
    out = ipython_to_python("%load_ext \\\n    autoreload\nx = 1")
    assert out == "pass\npass\nx = 1"


def test_python_file_with_magics_is_converted_only_when_it_does_not_parse(tmp_path: Path) -> None:
    bad = write(tmp_path / "a.py", "%matplotlib inline\nx = 1\n")
    good = write(tmp_path / "b.py", "x = 5 % 3\n")
    sub = load_submission([bad, good])
    assert sub.sources[0].cells[0].source == "pass\nx = 1\n"
    assert sub.sources[1].cells[0].source == "x = 5 % 3\n"
