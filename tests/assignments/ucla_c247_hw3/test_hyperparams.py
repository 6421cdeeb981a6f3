"""Training settings: hyperparams.json or HYPERPARAMS, validated with messages that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.assignments.ucla_c247_hw3.hyperparams import (
    HyperparamError,
    defaults,
    settings,
)
from graders.engine import grade

from .support import POOL, reference_sources, write_files


def as_files(data: object, path: str = "hyperparams.json") -> dict[str, bytes]:
    return {path: json.dumps(data).encode()}


def test_without_settings_the_handouts_are_used() -> None:
    chosen = settings("neural_net", {})
    assert chosen.values == {"learning_rate": 1e-4, "learning_rate_decay": 0.95, "reg": 0.25,
                             "num_iters": 1000, "batch_size": 200}
    assert chosen.source == "the handout's settings"
    assert settings("fc_net", {}).values == defaults("fc_net")
    assert defaults("fc_net")["hidden_dims"] == 100 and defaults("fc_net")["num_epochs"] == 15


def test_a_json_section_overrides_only_its_keys() -> None:
    files = as_files({"neural_net": {"learning_rate": 1e-3, "num_iters": 3000}})
    chosen = settings("neural_net", files)
    assert chosen.values["learning_rate"] == 1e-3 and chosen.values["num_iters"] == 3000
    assert chosen.values["reg"] == 0.25
    assert chosen.source == "from hyperparams.json"
    assert settings("fc_net", files).source == "the handout's settings"


def test_json_in_a_folder_wins_over_hyperparams_and_says_so() -> None:
    files = as_files({"fc_net": {"reg": 0.1}}, "hw3/hyperparams.json")
    chosen = settings("fc_net", files, {"reg": 0.5}, "nndl/fc_net.py")
    assert chosen.values["reg"] == 0.1
    assert chosen.source == "from hw3/hyperparams.json; HYPERPARAMS in nndl/fc_net.py not used"


def test_module_hyperparams_are_used_without_json() -> None:
    chosen = settings("fc_net", {}, {"hidden_dims": 200, "learning_rate": 5e-4},
                      "nndl/fc_net.py")
    assert chosen.values["hidden_dims"] == 200 and chosen.values["learning_rate"] == 5e-4
    assert chosen.source == "from HYPERPARAMS in nndl/fc_net.py"
    assert "hidden_dims=200" in chosen.describe()


@pytest.mark.parametrize(("section", "raw", "message"), [
    ("neural_net", {"lr": 0.1},
     "has an unknown key 'lr'; the keys are learning_rate, learning_rate_decay"),
    ("neural_net", {"learning_rate": -0.1}, "'learning_rate' should be a number in (0, 10]; "
                                            "got -0.1."),
    ("neural_net", {"learning_rate": "1e-3"}, "'learning_rate' should be a number in (0, 10]; "
                                              "got '1e-3'."),
    ("neural_net", {"learning_rate_decay": 1.5}, "'learning_rate_decay' should be a number in "
                                                 "(0, 1]; got 1.5."),
    ("neural_net", {"num_iters": 2500.0}, "'num_iters' should be an integer from 1 to 20000; "
                                          "got 2500.0."),
    ("neural_net", {"num_iters": 10**6}, "'num_iters' should be an integer from 1 to 20000; "
                                         "got 1000000."),
    ("neural_net", {"batch_size": True}, "'batch_size' should be an integer from 1 to 2000; "
                                         "got True."),
    ("fc_net", {"hidden_dims": [100]}, "'hidden_dims' should be an integer from 1 to 1000; "
                                       "got a list."),
    ("fc_net", {"weight_scale": 0}, "'weight_scale' should be a number in (0, 1]; got 0."),
    ("fc_net", {"reg": float("nan")}, "'reg' should be a number in [0, 100]; got nan."),
    ("fc_net", [1, 2], "should be a dict of settings"),
])
def test_bad_values_are_refused_naming_the_file_key_and_value(section: str, raw: object,
                                                               message: str) -> None:
    with pytest.raises(HyperparamError) as err:
        settings(section, as_files({section: raw}))
    assert f"hyperparams.json, section '{section}'" in str(err.value)
    assert message in str(err.value)
    with pytest.raises(HyperparamError) as err:
        settings(section, {}, raw, f"nndl/{section}.py")
    assert f"HYPERPARAMS in nndl/{section}.py" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(("files", "message"), [
    ({"hyperparams.json": b'{"neural_net": {"reg": 0.1,}}'},
     "hyperparams.json is not valid JSON (line 1, column 28"),
    ({"hyperparams.json": b"[1, 2]"}, "should hold a JSON object"),
    ({"hyperparams.json": b'{"nn": {}}'}, "unknown section 'nn'"),
    ({"hyperparams.json": b'{"fc_net": {}}', "nndl/hyperparams.json": b"{}"},
     "2 files named hyperparams.json"),
    ({"hyperparams.json": b'{"fc_net": {"reg": "\xff"}}'}, "is not UTF-8 text"),
])
def test_unreadable_json_is_refused_with_its_reason(files: dict[str, bytes],
                                                    message: str) -> None:
    with pytest.raises(HyperparamError, match=None) as err:
        settings("fc_net", files)
    assert message in str(err.value)


def test_json_nested_past_the_recursion_limit_is_the_students_error() -> None:
    deep = b'{"fc_net": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # 10 kB, 5000 levels
    with pytest.raises(HyperparamError, match=r"hyperparams\.json is nested too deeply"):
        settings("fc_net", {"hyperparams.json": deep})


def test_an_integer_past_pythons_digit_limit_is_the_students_error() -> None:
    # json.loads raises a plain ValueError here, not JSONDecodeError.
    files = {"hyperparams.json": b'{"fc_net": {"num_epochs": ' + b"9" * 5000 + b"}}"}
    with pytest.raises(HyperparamError, match=r"hyperparams\.json holds an integer of more "
                                              r"than 4300 digits"):
        settings("fc_net", files)


def test_oversized_json_is_refused_before_it_is_parsed() -> None:
    big = json.dumps({"fc_net": {"reg": 0.1}, "padding": [0] * 50_000}).encode()
    with pytest.raises(HyperparamError, match=r"hyperparams.json is 150,0\d\d bytes; .* at most "
                                              r"64,000"):
        settings("fc_net", {"hyperparams.json": big})


def test_deeply_nested_settings_fail_their_problem_not_the_grader(
        tmp_path: Path, synthetic_data: dict) -> None:
    files: dict[str, str | bytes] = dict(reference_sources())
    files["hyperparams.json"] = b'{"neural_net": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    result = grade("ucla-c247-hw3", write_files(tmp_path / "upload", files), seed=23, pool=POOL,
                   problems=["neural_net.cifar10"])
    (nn,) = result.problems
    assert nn.status == "failed" and nn.score == 0
    assert "Internal grading error" not in nn.message
    assert nn.message.startswith("hyperparams.json is nested too deeply")


def test_an_over_long_integer_in_settings_fails_its_problem_not_the_grader(
        tmp_path: Path, synthetic_data: dict) -> None:
    files: dict[str, str | bytes] = dict(reference_sources())
    files["hyperparams.json"] = b'{"neural_net": {"num_iters": ' + b"1" * 5000 + b"}}"
    result = grade("ucla-c247-hw3", write_files(tmp_path / "upload", files), seed=24, pool=POOL,
                   problems=["neural_net.cifar10"])
    (nn,) = result.problems
    assert nn.status == "failed" and nn.score == 0
    assert nn.message == ("hyperparams.json holds an integer of more than 4300 digits; "
                          "settings are small numbers.")


def test_bad_settings_fail_only_their_training_problem(tmp_path: Path,
                                                       synthetic_data: dict) -> None:
    files: dict[str, str | bytes] = dict(reference_sources())
    files["hyperparams.json"] = json.dumps({"neural_net": {"learning_rate": 0},
                                            "fc_net": {"num_epochs": 2}})
    result = grade("ucla-c247-hw3", write_files(tmp_path / "upload", files), seed=21, pool=POOL,
                   problems=["neural_net.cifar10", "fc_net.cifar10"])
    nn, fc = result.problems
    assert nn.status == "failed" and nn.score == 0
    assert nn.message == ("hyperparams.json, section 'neural_net': 'learning_rate' should be a "
                          "number in (0, 10]; got 0.")
    assert fc.status == "passed", fc.message
    assert "num_epochs=2" in fc.checks[0].message and "from hyperparams.json" in fc.message + (
        fc.checks[0].message)


def test_module_hyperparams_reach_the_training_run(tmp_path: Path,
                                                   synthetic_data: dict) -> None:
    files = reference_sources()
    files["neural_net.py"] += "\nHYPERPARAMS = {'num_iters': 40, 'learning_rate': 2e-4}\n"
    files["fc_net.py"] += "\nHYPERPARAMS = {'num_epochs': 2, 'hidden_dims': 'wide'}\n"
    result = grade("ucla-c247-hw3", write_files(tmp_path / "upload", files), seed=22, pool=POOL,
                   problems=["neural_net.cifar10", "fc_net.cifar10"])
    nn, fc = result.problems
    assert "num_iters=40" in nn.checks[0].message
    assert "from HYPERPARAMS in nndl/neural_net.py" in nn.checks[0].message
    assert fc.status == "failed"
    assert fc.message == ("HYPERPARAMS in nndl/fc_net.py: 'hidden_dims' should be an integer "
                          "from 1 to 1000; got 'wide'.")
