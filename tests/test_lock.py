"""The lock is the install: pyproject.toml, uv.lock, requirements.txt and what is installed all agree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
EXPORT = ["export", "--frozen", "--no-emit-project", "--no-hashes"]


def declared(pyproject: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """pyproject.toml's dependencies, the dev extra's marked `extra == 'dev'`, as uv records them."""
    project = pyproject["project"]
    lines = [(line, "") for line in project["dependencies"]]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines += [(line, f"extra == '{extra}'") for line in deps]
    found = set()
    for line, extra_marker in lines:
        req = Requirement(line)
        marker = " and ".join(m for m in (str(req.marker) if req.marker else "", extra_marker) if m)
        found.add((canonicalize_name(req.name), ",".join(sorted(req.extras)), str(req.specifier), marker))
    return found


def locked(lock: dict[str, Any], project: str) -> set[tuple[str, str, str, str]]:
    """What uv.lock says it resolved the project's own requirements from."""
    root = next(p for p in lock["package"] if p["name"] == project)
    return {
        (
            canonicalize_name(dep["name"]),
            ",".join(sorted(dep.get("extras", []))),
            str(Requirement(f"x{dep.get('specifier', '')}").specifier),
            dep.get("marker", ""),
        )
        for dep in root["metadata"]["requires-dist"]
    }


def disagreements(pyproject_path: Path, lock_path: Path) -> list[str]:
    pyproject = tomllib.loads(pyproject_path.read_text())
    lock = tomllib.loads(lock_path.read_text())
    wanted, have = declared(pyproject), locked(lock, pyproject["project"]["name"])
    said = [f"in pyproject.toml, not in uv.lock: {d}" for d in sorted(wanted - have)]
    said += [f"in uv.lock, not in pyproject.toml: {d}" for d in sorted(have - wanted)]
    if lock.get("requires-python") != pyproject["project"]["requires-python"]:
        said.append(f"requires-python: {pyproject['project']['requires-python']} against {lock.get('requires-python')}")
    return said


def test_pyproject_and_the_lock_agree() -> None:
    assert disagreements(ROOT / "pyproject.toml", ROOT / "uv.lock") == [], "run 'bash scripts/lock.sh'"


def copied_project(tmp_path: Path, pyproject_text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject_text)
    (tmp_path / "README.md").write_text("")
    shutil.copy(ROOT / "uv.lock", tmp_path / "uv.lock")
    return tmp_path


def uv_check(folder: Path) -> subprocess.CompletedProcess[str]:
    assert UV, "uv is not installed: install the locked set with 'bash scripts/install.sh --dev'"
    return subprocess.run([UV, "lock", "--check", "--offline"], cwd=folder, capture_output=True, text=True)


def test_an_unchanged_copy_passes_both_checks(tmp_path: Path) -> None:
    folder = copied_project(tmp_path, (ROOT / "pyproject.toml").read_text())
    assert disagreements(folder / "pyproject.toml", folder / "uv.lock") == []
    assert uv_check(folder).returncode == 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('    "orjson>=3.9",\n', '    "orjson>=3.9",\n    "rich>=13",\n'),  # added to pyproject only
        ('    "ruff>=0.5",\n', ""),  # dropped from pyproject only
        ('"sqlalchemy>=2.0"', '"sqlalchemy>=2.0.30"'),  # a changed bound
        ('requires-python = ">=3.11"', 'requires-python = ">=3.12"'),
    ],
)
def test_a_dependency_in_one_and_not_the_other_is_caught(tmp_path: Path, old: str, new: str) -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert old in text
    folder = copied_project(tmp_path, text.replace(old, new))
    assert disagreements(folder / "pyproject.toml", folder / "uv.lock") != []
    assert uv_check(folder).returncode != 0  # uv's own check, run by scripts/install.sh before it installs


def uv(*args: str) -> str:
    assert UV, "uv is not installed: install the locked set with 'bash scripts/install.sh --dev'"
    done = subprocess.run([UV, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_uv_itself_agrees_the_lock_is_current() -> None:
    uv("lock", "--check", "--offline")


def test_requirements_txt_is_the_locked_runtime_set() -> None:
    """App Engine installs requirements.txt: the lock's runtime packages, pinned, no test tool among them."""
    text = (ROOT / "requirements.txt").read_text()
    exported = uv(*EXPORT, "--no-dev", "--quiet")
    assert text.split("\n", 2)[2] == exported.split("\n", 2)[2], "run 'bash scripts/lock.sh'"
    pins = {line.split("==")[0] for line in text.splitlines() if "==" in line and not line.startswith(" ")}
    assert {"flask", "gunicorn", "pydantic", "sqlalchemy", "psycopg"} <= pins
    assert not pins & {"pytest", "hypothesis", "schemathesis", "scope3ai", "uv"}
    assert all("==" in line for line in text.splitlines() if line and line[0].isalpha())


def test_what_is_installed_is_what_is_locked() -> None:
    """`pip freeze` of the test environment, for every package the lock resolves here, equals the lock."""
    wrong = []
    for line in uv(*EXPORT, "--extra", "dev", "--quiet").splitlines():
        if not line or line[0] in " #":
            continue
        pin, _, marker = line.partition(" ; ")
        if marker and not Marker(marker).evaluate({"extra": "dev"}):
            continue
        name, version = pin.split("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            wrong.append(f"{name}: locked {version}, installed {installed}")
    assert wrong == [], "install from the lock: 'bash scripts/install.sh --dev'"
