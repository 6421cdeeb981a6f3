"""Training settings for the two CIFAR-10 problems: the student's, validated, or the handout's.

Trusted side. A student chooses settings in ``hyperparams.json`` (two
sections, ``neural_net`` and ``fc_net``) or in a module-level ``HYPERPARAMS``
dict in ``nndl/neural_net.py`` / ``nndl/fc_net.py``; for each section the
JSON file wins over the module, and keys left out keep the handout's value.
The JSON file is read from the submission's data files here, never in the
sandbox; a ``HYPERPARAMS`` dict arrives as plain data and is held to the
same rules. Every error names the file, the key and the bad value, as a
configuration error should (starlette's ``Config`` does the same).

Ranges are what a sensible run needs and what the training problems' time
budgets can pay for; a run that still takes too long stops at the budget
with a message saying how far it got.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FILE_NAME = "hyperparams.json"
# Two sections of a dozen numbers fit in a few hundred bytes; the cap keeps json.loads of a
# student's file (in the grading process) cheap, and nesting past Python's recursion limit
# is refused as the student's error rather than raised as the grader's.
MAX_JSON_BYTES = 64_000


@dataclass(frozen=True)
class Rule:
    """An integer or a real number within bounds; the lower bound may be open."""

    integer: bool
    low: float
    high: float
    open_low: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.integer and not isinstance(value, int):
            return False
        above = value > self.low if self.open_low else value >= self.low
        return bool(above and value <= self.high)

    def describe(self) -> str:
        if self.integer:
            return f"an integer from {self.low:g} to {self.high:g}"
        return f"a number in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}]"


RATE = Rule(False, 0.0, 10.0, open_low=True)
DECAY = Rule(False, 0.0, 1.0, open_low=True)
REG = Rule(False, 0.0, 100.0)
BATCH = Rule(True, 1, 2000)

# section -> key -> (the handout's value, rule)
SECTIONS: dict[str, dict[str, tuple[float | int, Rule]]] = {
    "neural_net": {
        "learning_rate": (1e-4, RATE),
        "learning_rate_decay": (0.95, DECAY),
        "reg": (0.25, REG),
        "num_iters": (1000, Rule(True, 1, 20000)),
        "batch_size": (200, BATCH),
    },
    "fc_net": {
        "learning_rate": (1e-3, RATE),
        "lr_decay": (0.95, DECAY),
        "num_epochs": (15, Rule(True, 1, 30)),
        "batch_size": (100, BATCH),
        "hidden_dims": (100, Rule(True, 1, 1000)),
        "weight_scale": (1e-3, Rule(False, 0.0, 1.0, open_low=True)),
        "reg": (0.0, REG),
    },
}


class HyperparamError(ValueError):
    """The student's settings break a rule; ``str`` says where, which key and what value."""


@dataclass(frozen=True)
class Settings:
    """Validated settings for one section, and where they came from (said in feedback)."""

    values: dict[str, float | int]
    source: str

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        return f"{shown} ({self.source})"


def defaults(section: str) -> dict[str, float | int]:
    return {key: value for key, (value, _) in SECTIONS[section].items()}


def read_json(files: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The submission's ``hyperparams.json`` (at any folder depth) as a dict, or None."""
    paths = sorted(p for p in files if p.rsplit("/", 1)[-1] == FILE_NAME)
    if not paths:
        return None
    if len(paths) > 1:
        raise HyperparamError(f"The submission has {len(paths)} files named {FILE_NAME} "
                              f"({', '.join(paths)}); keep one.")
    path = paths[0]
    if len(files[path]) > MAX_JSON_BYTES:
        raise HyperparamError(f"{path} is {len(files[path]):,} bytes; settings fit in far less, "
                              f"and the grader reads at most {MAX_JSON_BYTES:,}.")
    try:
        text = files[path].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HyperparamError(f"{path} is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HyperparamError(f"{path} is not valid JSON (line {exc.lineno}, column "
                              f"{exc.colno}: {exc.msg}).") from None
    except ValueError:  # not JSONDecodeError: an integer past Python's digit limit (4300)
        raise HyperparamError(f"{path} holds an integer of more than "
                              f"{sys.get_int_max_str_digits()} digits; settings are small "
                              "numbers.") from None
    except RecursionError:
        raise HyperparamError(f"{path} is nested too deeply to be settings; it should hold "
                              "two sections of numbers.") from None
    if not isinstance(data, dict):
        raise HyperparamError(f"{path} should hold a JSON object with the sections "
                              f"'neural_net' and 'fc_net'; it holds a {type(data).__name__}.")
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise HyperparamError(f"{path} has an unknown section {unknown[0]!r}; the sections "
                              "are 'neural_net' and 'fc_net'.")
    return data


def validate(section: str, raw: Any, where: str) -> dict[str, float | int]:
    """The handout's values updated with ``raw``'s, each checked against its rule."""
    rules = SECTIONS[section]
    if not isinstance(raw, dict):
        raise HyperparamError(f"{where} should be a dict of settings (keys: {', '.join(rules)}); "
                              f"got {type(raw).__name__}.")
    values = defaults(section)
    for key, value in raw.items():
        if key not in rules:
            raise HyperparamError(f"{where} has an unknown key {key!r}; the keys are "
                                  f"{', '.join(rules)}.")
        rule = rules[key][1]
        if not rule.accepts(value):
            shown = (repr(value) if isinstance(value, int | float | str | None)
                     else f"a {type(value).__name__}")
            raise HyperparamError(f"{where}: {key!r} should be {rule.describe()}; got {shown}.")
        values[key] = float(value) if not rule.integer else int(value)
    return values


def settings(section: str, files: Mapping[str, bytes], module_value: Any = None,
             module_file: str = "") -> Settings:
    """The settings one training problem uses: JSON section, else ``HYPERPARAMS``, else defaults.

    ``module_value`` is the module's ``HYPERPARAMS`` (None when it has none).
    """
    data = read_json(files)
    if data is not None and section in data:
        path = next(p for p in sorted(files) if p.rsplit("/", 1)[-1] == FILE_NAME)
        values = validate(section, data[section], f"{path}, section {section!r}")
        ignored = f"; HYPERPARAMS in {module_file} not used" if module_value is not None else ""
        return Settings(values, f"from {path}{ignored}")
    if module_value is not None:
        return Settings(validate(section, module_value, f"HYPERPARAMS in {module_file}"),
                        f"from HYPERPARAMS in {module_file}")
    return Settings(defaults(section), "the handout's settings")

