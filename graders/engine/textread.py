"""Student code as text → plain Python cells, run in a child process with its own limits.

Everything here reads text a student wrote: UTF-8 decoding, notebook JSON,
IPython syntax and ``ast.parse``. Parsing costs memory out of proportion to
the input (a 4 MB list literal took the grader to 2.5 GB), so the engine runs
this module as a script, ``python -I -S textread.py``, under an address-space
and a CPU limit, and reads back one JSON object (``submission.read_code``).
It imports nothing but the standard library, so the child starts in tens of
milliseconds, and it raises nothing the parent must unpickle: refusals travel
as ``{"error": {"kind", "message"}}``.

Notebooks become one cell per code cell, labelled ``"hw1.ipynb cell 14"``:
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
  cell and leaves a note.

A ``.py`` file that does not parse gets the same treatment (students paste
``%matplotlib inline`` into scripts); one that parses is left untouched.
Every test of a line is a plain scan, linear in its length: a regular
expression with two quantifiers over the same characters took 37 s on a
128 kB line of spaces.
"""

from __future__ import annotations

import codecs
import json
import resource
import sys
from _ast import PyCF_ONLY_AST  # what ast.parse passes to compile, without ast's imports
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

MAX_JSON_DEPTH = 100
MAX_CELLS = 5000  # per submission: bounds the labels and notes the reply carries
HEADER_BYTES = 1 << 20
_TOO_DEEP = object()


class Refused(Exception):
    """The student's file cannot be read; ``kind`` names the engine error it becomes."""

    kind = "SubmissionError"


class NotebookRefused(Refused):
    kind = "UnreadableNotebook"


class TooLarge(Refused):
    kind = "CodeTooLarge"


def read_files(files: Iterable[tuple[str, str, bytes]], max_code: int, max_total: int
               ) -> dict[str, Any]:
    """The reply for ``(name, kind, data)`` files: cells and notes, or the first refusal.

    A ``.py`` file is all code, so its size is checked before it is parsed; a
    notebook's code is counted once its cells are out of the JSON.
    """
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    total = cell_count = 0
    for name, kind, data in files:
        if kind == "py" and len(data) > max_code:
            raise TooLarge(f"{name} is {_size(len(data))}; the limit is {_size(max_code)} of "
                           "code per file. Keep data in a data file (.npy, .csv), not in the code.")
        cells = python_cells(name, data, notes) if kind == "py" else notebook_cells(
            name, data, notes)
        size = sum(len(c["source"]) for c in cells)
        if size > max_code:
            what = "code" if kind == "py" else "code in its cells"
            raise TooLarge(f"{name} has {_size(size)} of {what}; the limit is {_size(max_code)} "
                           "per file. Keep data in a data file (.npy, .csv), not in the code.")
        cell_count += len(cells)
        if cell_count + len(notes) > MAX_CELLS:  # each cell read or dropped is a line of reply
            raise NotebookRefused(f"The submission has more than {MAX_CELLS} notebook cells "
                                  f"(reached at {name}); the grader reads up to {MAX_CELLS}.")
        total += size
        if total > max_total:
            raise TooLarge(f"The submission has more than {_size(max_total)} of code in all "
                           f"(reached at {name}).")
        out.append({"name": name, "kind": kind, "cells": cells})
    return {"files": out, "notes": notes}


def _size(n: int) -> str:
    """Bytes in decimal units, as upload forms state their limits."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def decode(data: bytes, name: str, error: type[Refused] = Refused) -> str:
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


def python_cells(name: str, data: bytes, notes: list[str]) -> list[dict[str, str]]:
    """A ``.py`` file is one cell; IPython lines in it are converted only if it won't parse."""
    text = decode(data, name)
    if not parses(text):
        converted = ipython_to_python(text)
        if converted is not None and converted != text:
            text = converted
            notes.append(f"{name}: IPython lines (magics, '!' commands) were left out.")
    return [{"label": name, "source": text}]


def parses(text: str) -> bool:
    """Whether ``ast.parse`` accepts ``text`` (the ``ast`` module costs the child 30 ms)."""
    try:
        compile(text, "<student>", "exec", PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


def notebook_cells(name: str, data: bytes, notes: list[str]) -> list[dict[str, str]]:
    """Code cells of a format-4 Python notebook, accepted when the cells themselves are usable."""
    nb = notebook_json(decode(data, name, NotebookRefused), name)
    if len(nb["cells"]) > MAX_CELLS:
        raise NotebookRefused(f"{name} has {len(nb['cells'])} cells; the grader reads notebooks "
                              f"of up to {MAX_CELLS}.")
    notes.extend(schema_notes(nb, name))
    cells: list[dict[str, str]] = []
    for index, cell in enumerate(nb["cells"], start=1):
        label = f"{name} cell {index}"
        if not isinstance(cell, dict):
            raise NotebookRefused(f"{label} is not a JSON object, so it is not a notebook cell.")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookRefused(f"{label}: its source is not text.")
        source = source.replace("\r\n", "\n").replace("\r", "\n")
        python = ipython_to_python(source)
        if python is None:
            magic = source.lstrip().split(None, 1)[0][:40]
            notes.append(f"{label}: a {magic} cell is not Python and was not run.")
            continue
        cells.append({"label": label, "source": python})
    return cells


def notebook_json(text: str, name: str) -> dict[str, Any]:
    """Parse and shape-check a notebook's JSON, with messages a student can act on."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookRefused(
            f"{name} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
            "it may have been edited by hand or saved incompletely."
        ) from None
    except ValueError:  # not JSONDecodeError: an integer past Python's digit limit (4300)
        raise NotebookRefused(
            f"{name} holds an integer of more than {sys.get_int_max_str_digits()} digits; "
            "no notebook has one, so it cannot be read."
        ) from None
    except RecursionError:
        nb = _TOO_DEEP
    if nb is _TOO_DEEP or _depth(nb) > MAX_JSON_DEPTH:
        raise NotebookRefused(
            f"{name} is nested more than {MAX_JSON_DEPTH} levels deep; it is not a notebook."
        )
    if not isinstance(nb, dict):
        raise NotebookRefused(f"{name} is not a notebook: its JSON is not an object.")
    version = nb.get("nbformat")
    if type(version) is not int:
        raise NotebookRefused(f"{name} is not a Jupyter notebook (it has no 'nbformat' number).")
    if version < 4:
        raise NotebookRefused(
            f"{name} uses notebook format {version}, from before 2015; open it in a current "
            "Jupyter or Colab and save it, which converts it to format 4."
        )
    if version > 4:
        raise NotebookRefused(f"{name} uses notebook format {version}; the grader reads format 4.")
    if not isinstance(nb.get("cells"), list):
        raise NotebookRefused(f"{name} is not a notebook: it has no list of 'cells'.")
    language = _language(nb.get("metadata"))
    if language is not None and language.lower() != "python":
        raise NotebookRefused(f"{name} is a {language} notebook; the grader runs Python.")
    return nb


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
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


def schema_notes(nb: dict[str, Any], name: str) -> list[str]:
    """The first departure from format 4's required fields, as a note: Colab and old tools
    bend the schema, and the cells are read anyway."""
    problem = _schema_problem(nb)
    if problem is None:
        return []
    return [f"{name}: the notebook does not fully follow format 4 ({problem}); read anyway."]


def _schema_problem(nb: dict[str, Any]) -> str | None:
    if not isinstance(nb.get("metadata"), dict):
        return "'metadata' is missing or not an object"
    if type(nb.get("nbformat_minor")) is not int:
        return "'nbformat_minor' is missing or not an integer"
    for index, cell in enumerate(nb["cells"], start=1):
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        if kind not in ("code", "markdown", "raw"):
            return f"cell {index} has no valid 'cell_type'"
        if not isinstance(cell.get("metadata"), dict):
            return f"cell {index} has no 'metadata' object"
        if "source" not in cell:
            return f"cell {index} has no 'source'"
        if kind != "code":
            continue
        if not isinstance(cell.get("outputs"), list):
            return f"cell {index} has no list of 'outputs'"
        count = cell.get("execution_count", "missing")
        if count is not None and type(count) is not int:
            return f"cell {index}: 'execution_count' is not an integer or null"
    return None


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


def ipython_to_python(source: str) -> str | None:
    """IPython cell text as plain Python with the same lines, or None for a non-Python cell.

    Only lines that begin a statement are examined, so ``%`` and ``!`` inside
    strings, brackets or continued lines are left alone.
    """
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        if _word(lines[first].lstrip()[2:]) not in _RUN_BODY_CELL_MAGICS:
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
    assigned = _magic_assignment(stripped)
    if assigned is not None:
        lhs, kind = assigned
        return f"{indent}{lhs} = {'[]' if kind == '!' else 'None'}", True
    if not stripped or parses(stripped):
        return line, False
    if _is_help(stripped.rstrip()) or _is_automagic(stripped):
        return indent + "pass", True
    return line, False


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _word(text: str) -> str:
    """The run of word characters ``text`` starts with."""
    end = 0
    while end < len(text) and _is_word_char(text[end]):
        end += 1
    return text[:end]


_TARGET_CHARS = frozenset(".[](),*")


def _magic_assignment(stripped: str) -> tuple[str, str] | None:
    """``x, y = !cmd`` or ``x = %magic``: (the targets, ``!`` or ``%``), else None.

    The targets are what precedes the first ``=``: names, attributes,
    subscripts, tuples and starred names; after the ``=`` and any spaces comes
    ``!`` or ``%`` and then a non-space character.
    """
    eq = stripped.find("=")
    if eq < 1 or not (stripped[0].isascii() and (stripped[0].isalpha() or stripped[0] == "_")):
        return None
    lhs = stripped[:eq]
    if not all(_is_word_char(ch) or ch.isspace() or ch in _TARGET_CHARS for ch in lhs):
        return None
    value = stripped[eq + 1:].lstrip()
    if len(value) < 2 or value[0] not in "!%" or value[1].isspace():
        return None
    return lhs.rstrip(), value[0]


_HELP_CHARS = frozenset(".*")


def _is_help(text: str) -> bool:
    """``?obj``, ``??obj``, ``obj?``, ``obj??``; ``obj`` is word characters, ``.`` and ``*``."""
    lead = len(text) - len(text.lstrip("?"))
    trail = len(text) - len(text.rstrip("?"))
    if lead > 2 or trail > 2 or lead + trail == 0 or lead + trail >= len(text):
        return False
    return all(_is_word_char(ch) or ch in _HELP_CHARS for ch in text[lead:len(text) - trail])


def _is_automagic(stripped: str) -> bool:
    """``pip install x`` or ``pwd``: an automagic word alone or followed by arguments,
    not by ``=`` or ``(`` (which would make it Python)."""
    word = _word(stripped)
    if word not in _AUTOMAGICS:
        return False
    rest = stripped[len(word):]
    args = rest.lstrip()
    return not args or (rest[0].isspace() and args[0] not in "=(")


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


# ---- the child process -------------------------------------------------------------------------

def main(argv: list[str], stdin: BinaryIO, stdout: BinaryIO) -> int:
    """``textread.py MEMORY_BYTES CPU_SECONDS``: a request on stdin, one JSON reply on stdout.

    The request is a JSON header line ``{"max_code", "max_total", "files":
    [{"name", "kind", "size"}]}`` followed by the files' bytes, read and
    converted one file at a time so only one is held at once.
    """
    memory, cpu = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    header = json.loads(stdin.readline(HEADER_BYTES))
    current = ""

    def files() -> Iterator[tuple[str, str, bytes]]:
        nonlocal current
        for f in header["files"]:
            current = f["name"]
            yield f["name"], f["kind"], stdin.read(int(f["size"]))

    try:
        reply: dict[str, Any] = read_files(files(), int(header["max_code"]),
                                           int(header["max_total"]))
    except Refused as e:
        reply = {"error": {"kind": e.kind, "message": str(e)}}
    except MemoryError:
        reply = {"error": {"kind": "CodeTooLarge", "message": (
            f"Reading {current} needed more than the grader's {memory // 2**20} MB of memory; "
            "a file of code this large or this deeply nested cannot be graded.")}}
    stdout.write(json.dumps(reply).encode("ascii"))  # \u escapes carry lone surrogates too
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdin.buffer, sys.stdout.buffer))
