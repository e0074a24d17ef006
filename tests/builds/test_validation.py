"""The image check: run for real in this environment and in one without JupyterLab."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest

from jupyterhub_ov.builds import validation
from jupyterhub_ov.builds.backends.base import Package
from jupyterhub_ov.builds.imagecheck import MIN_PYTHON, top_level
from jupyterhub_ov.builds.model.spec_rules import MIN_PYTHON as REQUESTS_MIN_PYTHON
from jupyterhub_ov.builds.process import run

SYSTEM_PYTHON = Path("/usr/bin/python3")


def report_line(**fields: object) -> str:
    report = {"python": "3.11.7", "packages": [], "passed": [], "problems": [], **fields}
    return f"{validation.MARKER} {json.dumps(report)}"


async def check(python: str, home: Path) -> tuple[int, str]:
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    done = await run(validation.command(60, python=python), env=env, check=False, capture=True)
    return done.returncode, done.output


async def test_an_environment_with_jupyterlab_passes(tmp_path: Path) -> None:
    code, output = await check(sys.executable, tmp_path)

    report = validation.parse_report(output)
    assert code == 0 and report is not None, output
    assert report.ok and report.python == "{}.{}.{}".format(*sys.version_info[:3])
    assert report.passed == (
        f"Python {report.python}",
        "import jupyterhub",
        "import jupyterlab",
        "$HOME is writable",
        "jupyterhub-singleuser started and answered",
    )
    names = {p.name for p in report.packages}
    assert "jupyterhub-ov" in names  # this project is installed and required by nothing
    assert "jupyterlab" not in names  # required by jupyterhub-ov: not top-level
    assert not names & {"pip", "setuptools", "wheel"}


@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="needs a system python3")
async def test_an_environment_without_jupyterlab_fails_with_the_reason(tmp_path: Path) -> None:
    code, output = await check(str(SYSTEM_PYTHON), tmp_path)

    report = validation.parse_report(output)
    assert code == 1 and report is not None, output
    assert not report.ok
    assert any(
        p.startswith("import jupyterlab failed: ModuleNotFoundError") for p in report.problems
    )
    message = validation.failure_message(report, output)
    assert message.startswith("The image failed validation: import jupyterhub failed")


async def test_an_unwritable_home_is_a_problem(tmp_path: Path) -> None:
    home = tmp_path / "readonly"
    home.mkdir()
    home.chmod(0o500)
    if os.access(home, os.W_OK):  # root writes anywhere: make HOME a file instead
        home.chmod(0o700)
        home.rmdir()
        home.write_text("")
    code, output = await check(sys.executable, home)

    report = validation.parse_report(output)
    assert report is not None and code == 1, output
    assert any(p.startswith(f"$HOME ({home}) is not writable") for p in report.problems)


def test_the_check_parses_as_python_3_6_and_agrees_on_the_minimum() -> None:
    ast.parse(validation.SCRIPT, feature_version=(3, 6))
    assert MIN_PYTHON == REQUESTS_MIN_PYTHON


@pytest.mark.parametrize(
    "output, expected",
    [
        ("", None),
        ("noise\nmore noise", None),
        (f"{validation.MARKER} not json", None),
        (f"{validation.MARKER} {{}}", None),  # fields missing
        (
            "server log\n" + report_line(packages=[{"name": "pandas", "version": "2.2"}]),
            validation.CheckReport("3.11.7", (Package("pandas", "2.2"),)),
        ),
        (
            report_line(python="3.7.1", problems=["old"]) + "\n" + report_line(passed=["x"]),
            validation.CheckReport("3.11.7", passed=("x",)),  # the last report counts
        ),
    ],
)
def test_parse_report(output: str, expected: validation.CheckReport | None) -> None:
    assert validation.parse_report(output) == expected


def test_what_a_passed_check_records() -> None:
    report = validation.CheckReport(
        "3.11.7", (Package("boto3", "1.35.0"), Package("pandas", "2.2.3")), passed=("a", "b")
    )

    assert report.python_version == "3.11"
    assert validation.tag_annotations(report) == {
        "opendatahub.io/notebook-software": '[{"name": "Python", "version": "3.11"}]',
        "opendatahub.io/notebook-python-dependencies": (
            '[{"name": "boto3", "version": "1.35.0"}, {"name": "pandas", "version": "2.2.3"}]'
        ),
    }
    assert validation.success_messages("t1", report) == [
        {"severity": "info", "message": "Tag t1 passed validation: a, b"}
    ]
    assert validation.failure_message(None, "line 1\nTraceback\nSyntaxError") == (
        "The image check did not report (is python3 on the image's PATH?):\n"
        "line 1\nTraceback\nSyntaxError"
    )


def test_failure_message_names_every_problem() -> None:
    problems = ("import x failed: ModuleNotFoundError: x", "b failed")
    report = validation.CheckReport("3.11.7", problems=problems)
    assert not report.ok
    assert validation.failure_message(report, "") == (
        "The image failed validation: import x failed: ModuleNotFoundError: x; b failed"
    )
    assert validation.CheckReport("3.11.7", passed=("a",)).ok


def dists(installed: dict[str, str], requires: dict[str, list[str]]) -> list[tuple]:
    return [(name, version, requires.get(name)) for name, version in installed.items()]


@pytest.mark.parametrize(
    "installed, requires, top",
    [
        ({}, {}, ()),
        ({"ovtiny": "2", "ovdep": "1"}, {"ovtiny": ["ovdep"]}, (("ovtiny", "2"),)),
        ({"A_b": "1", "c": "1"}, {"c": ["a-B"]}, (("c", "1"),)),  # canonical names
        ({"x": "1", "y": "1"}, {"x": ["y"], "y": ["x"]}, ()),  # a cycle: neither is top-level
        ({"b": "1", "A": "2"}, {"b": ["not-installed"]}, (("A", "2"), ("b", "1"))),
        ({"a": "1", "e": "1"}, {"a": ['e; extra == "x"']}, (("a", "1"), ("e", "1"))),  # extras
        ({"pip": "24", "wheel": "1", "a": "1"}, {}, (("a", "1"),)),  # the installers
    ],
)
def test_top_level(installed, requires, top):
    found = top_level(dists(installed, requires))
    assert tuple((p["name"], p["version"]) for p in found) == top


def test_top_level_takes_the_first_of_a_name_as_sys_path_does() -> None:
    found = top_level([("pandas", "2.2", []), ("Pandas", "1.0", [])])
    assert found == [{"name": "pandas", "version": "2.2"}]


async def test_the_floor_is_the_one_handed_over(tmp_path: Path) -> None:
    """The service's floor reaches the script (here one this Python is below of)."""
    future = f"{sys.version_info[0]}.{sys.version_info[1] + 1}"
    cmd = validation.command(None, python=sys.executable)
    assert cmd[cmd.index("--min-python") + 1] == "{}.{}".format(*REQUESTS_MIN_PYTHON)
    cmd[cmd.index("--min-python") + 1] = future
    done = await run(cmd, env={"HOME": str(tmp_path)}, check=False, capture=True)
    report = validation.parse_report(done.output)
    assert done.returncode == 1 and report is not None, done.output
    assert report.problems == (f"Python {report.python} is older than {future}",)
    assert "import jupyterhub.singleuser" in report.passed and report.packages == ()


async def test_the_script_runs_standalone_as_a_file(tmp_path: Path) -> None:
    """Copied anywhere and run without arguments: the default floor, the same report."""
    script = tmp_path / "imagecheck.py"
    script.write_text(validation.SCRIPT)
    cmd = [sys.executable, str(script), "--no-server", "--site-only"]
    done = await run(cmd, env={"HOME": str(tmp_path)}, check=False, capture=True)
    report = validation.parse_report(done.output)
    assert done.returncode == 0 and report is not None and report.ok, done.output
    assert f"ok:     Python {report.python}" in done.output.splitlines()
    assert "jupyterhub-ov" in {p.name for p in report.packages}
