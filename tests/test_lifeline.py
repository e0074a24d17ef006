"""jupyterhub_ov.lifeline: a command run through it ends when the process that started it
dies, which a plain command does not (real processes, SIGKILLed parents)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from jupyterhub_ov import lifeline

#: a parent that starts ``command`` as its child, prints the child's pid and waits
PARENT = textwrap.dedent(
    """
    import json, subprocess, sys, time
    child = subprocess.Popen(json.loads(sys.argv[1]), start_new_session=True)
    print(child.pid, flush=True)
    time.sleep(120)
    """
)
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def orphan_of_a_killed_parent(command: list[str]) -> psutil.Process:
    """Start ``command`` under a parent, SIGKILL the parent, and return the child."""
    import json

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, json.dumps(command)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    # the child runs its command (lifeline has exec'ed, so its prctl is done) before the
    # parent dies
    while child.cmdline()[1:2] != ["-c"]:
        pass
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    return child


def test_the_wrapped_command_ends_with_its_parent_and_a_plain_one_does_not() -> None:
    plain = orphan_of_a_killed_parent(SLEEPER)
    try:
        wrapped = orphan_of_a_killed_parent(lifeline.wrap(SLEEPER))
        gone, _ = psutil.wait_procs([wrapped], timeout=10)
        assert gone == [wrapped]
        assert plain.status() != psutil.STATUS_ZOMBIE  # the plain one is orphaned, alive
    finally:
        plain.kill()


def test_the_command_runs_in_the_same_process_with_its_arguments_and_status() -> None:
    code = "import os, sys; print(os.getpid(), sys.argv[1:]); sys.exit(3)"
    run = subprocess.run(
        lifeline.wrap([sys.executable, "-c", code, "a b", "--x"]), capture_output=True, text=True
    )
    assert run.returncode == 3
    pid, args = run.stdout.split(" ", 1)
    assert args.strip() == "['a b', '--x']" and int(pid) > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "usage: python -m jupyterhub_ov.lifeline -- COMMAND"),
        (["--"], "usage: python -m jupyterhub_ov.lifeline -- COMMAND"),
        (["/no/such/program"], "lifeline: cannot run /no/such/program: No such file"),
    ],
)
def test_a_bad_command_line_is_a_clear_error(argv: list[str], message: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "jupyterhub_ov.lifeline", *argv], capture_output=True, text=True
    )
    assert run.returncode == 1 and message in run.stderr
