"""A course brings its own assignment as a bundle, found, listed and graded like the seeds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graders.bundles import Registry, discover
from graders.errors import BundleError, UnknownAssignment
from graders.sandbox import bwrap
from graders.sandbox.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "bundles" / "demo-layers-hw"
CORRECT = """
import numpy as np
def relu_forward(x):
    return np.maximum(0, x), x
def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)
"""


def _bundle(parent: Path, name: str = "demo-layers-hw") -> Path:
    target = parent / name
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graders.cli", *args], cwd=REPO, text=True,
                          capture_output=True, env={**os.environ, "COLUMNS": "400", **env},
                          timeout=120)


def test_a_bundle_folder_outside_the_repository_grades_with_dlgrade_grade(tmp_path: Path):
    courses = tmp_path / "courses"
    courses.mkdir()
    _bundle(courses)
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(CORRECT)
    bad.write_text(CORRECT.replace("x @ w + b", "x @ w - b"))
    env = {"DLGRADE_ASSIGNMENTS_PATH": str(courses)}

    graded = {}
    for sub in (good, bad):
        run = _cli("grade", "demo-layers-hw", str(sub), "--json", env=env)
        assert run.returncode == 0, run.stderr
        graded[sub.name] = json.loads(run.stdout)

    assert graded["good.py"]["score"] == 3.0
    scores = {p["id"]: p["score"] for p in graded["bad.py"]["problems"]}
    assert scores == {"relu_forward": 1.0, "affine_forward": 0.0}


def test_dlgrade_assignments_lists_each_bundle_with_its_origin_and_version(tmp_path: Path):
    _bundle(tmp_path)
    run = _cli("assignments", env={"DLGRADE_ASSIGNMENTS_PATH": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    flat = " ".join(run.stdout.split())
    assert "demo-layers-hw 2026.1" in flat
    assert f"from folder {tmp_path / 'demo-layers-hw'}" in flat
    assert "radboud-dl-a1 1.1" in flat and "from built-in" in flat


def test_the_seed_assignments_load_through_the_bundle_path():
    bundles = {b.slug: b for b in discover([], entry_points=False)}
    assert {"radboud-dl-a1", "ucla-c247-hw3", "nyu-dl-hw1"} <= set(bundles)
    for b in bundles.values():
        assert b.error is None and b.origin == "built-in"
        assert Registry(lambda b=b: [b]).get(b.slug).slug == b.slug


@pytest.mark.parametrize(("break_it", "file_named", "reason"), [
    (lambda b: (b / "spec.py").write_text("def broken(:\n"), "spec.py:1", "syntax error"),
    (lambda b: shutil.rmtree(b / "reference"), "dlgrade-bundle.toml", "reference"),
    (lambda b: (b / "dlgrade-bundle.toml").write_text(
        (b / "dlgrade-bundle.toml").read_text() + 'points = 3\n'),
     "dlgrade-bundle.toml", "points: Extra inputs are not permitted"),
    (lambda b: (b / "dlgrade-bundle.toml").write_text(
        (b / "dlgrade-bundle.toml").read_text().replace('">=0.2"', '">=99"')),
     "dlgrade-bundle.toml", "needs dlgrade >=99"),
    (lambda b: (b / "spec.py").write_text("import no_such_module_here\n"), "spec.py",
     "ModuleNotFoundError"),
    # a problem id that, put in a page's form action, would post to another staff route
    (lambda b: (b / "spec.py").write_text((b / "spec.py").read_text().replace(
        '"relu_forward", points=1', '"../../../courses/2/manage/drop/5", points=1')),
     "spec.py", "ids name the service's URLs"),
])
def test_a_broken_bundle_names_its_file_and_the_others_still_load(
        tmp_path: Path, break_it, file_named: str, reason: str):
    broken = _bundle(tmp_path)
    break_it(broken)
    registry = Registry.from_paths([tmp_path])

    with pytest.raises((BundleError, UnknownAssignment)) as caught:
        registry.get("demo-layers-hw")
    assert str(broken / file_named) in str(caught.value)
    assert reason in str(caught.value)
    [error] = registry.errors()
    assert str(broken / file_named) in str(error)
    assert {a.slug for a in registry.all()} == {"radboud-dl-a1", "ucla-c247-hw3", "nyu-dl-hw1"}


def test_a_duplicate_slug_is_refused_naming_both_bundles(tmp_path: Path):
    first, second = _bundle(tmp_path, "a"), _bundle(tmp_path, "b")
    registry = Registry.from_paths([tmp_path])
    assert registry.bundle("demo-layers-hw").root == first.resolve()
    [error] = registry.errors()
    assert str(second / "dlgrade-bundle.toml") in str(error)
    assert "already taken by" in str(error) and str(first) in str(error)


def test_a_zipped_bundle_loads_and_one_with_a_parent_path_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = _bundle(tmp_path / "src")
    good, evil = tmp_path / "zips" / "good.zip", tmp_path / "evil" / "evil.zip"
    for z in (good, evil):
        z.parent.mkdir()
    with zipfile.ZipFile(good, "w") as zf:
        for f in source.rglob("*"):
            zf.write(f, f"demo-layers-hw/{f.relative_to(source)}")
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escaped.py", "print('hi')")

    assert Registry.from_paths([good.parent]).get("demo-layers-hw").slug == "demo-layers-hw"
    [error] = Registry.from_paths([evil]).errors()
    assert str(evil) in str(error) and "unsafe path" in str(error)
    assert not (tmp_path / "cache" / "escaped.py").exists()


def test_an_unknown_slug_lists_the_bundles_found(tmp_path: Path):
    _bundle(tmp_path)
    with pytest.raises(UnknownAssignment, match="demo-layers-hw"):
        Registry.from_paths([tmp_path]).get("no-such-hw")


def test_an_installed_course_package_is_found_through_its_entry_point(tmp_path: Path):
    site = tmp_path / "site"
    package = site / "democourse_hw"
    shutil.copytree(EXAMPLE, package)
    (package / "__init__.py").write_text("")
    dist = site / "democourse_hw-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: democourse-hw\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dlgrade.assignments]\ndemo = democourse_hw\n")
    sub = tmp_path / "sub.py"
    sub.write_text(CORRECT)

    run = _cli("grade", "demo-layers-hw", str(sub), "--json",
               env={"PYTHONPATH": f"{REPO}{os.pathsep}{site}"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["score"] == 3.0
    listed = _cli("assignments", env={"PYTHONPATH": f"{REPO}{os.pathsep}{site}"})
    assert "package democourse-hw" in " ".join(listed.stdout.split())


def test_a_bundle_inside_what_the_sandbox_binds_is_covered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An installed course package sits in site-packages, which every sandbox sees."""
    site = tmp_path / "site-packages"
    inside = _bundle(site)
    elsewhere = _bundle(tmp_path / "courses", "other")
    (elsewhere / "dlgrade-bundle.toml").write_text(
        (elsewhere / "dlgrade-bundle.toml").read_text().replace("demo-layers-hw", "other-hw"))
    monkeypatch.setattr("graders.assignments.registry",
                        Registry.from_paths([site, tmp_path / "courses"]))
    rt = Runtime(roots=(site,), masked=(), python=Path(sys.executable))
    assert bwrap._visible_bundles(rt) == [inside.resolve()]
