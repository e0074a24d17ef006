"""Processes on this machine, through psutil: what the tests and the reliability scenarios
look for (whether a process still runs, processes by command line, orphans, relatives).

A zombie counts as ended everywhere here: it runs no code and holds no port, it only waits
for its parent (or init) to reap it.
"""

from __future__ import annotations

import os

import psutil


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def mentioning(text: str) -> list[psutil.Process]:
    """The running processes but this one whose command line has ``text`` in an argument;
    each carries ``info["cmdline"]``."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        argv = process.info["cmdline"] or []
        if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(text in arg for arg in argv):
            found.append(process)
    return found


def command(process: psutil.Process) -> str:
    """A `mentioning` process's command line, for messages."""
    return " ".join(process.info["cmdline"] or [])


def orphans_mentioning(text: str) -> list[psutil.Process]:
    """`mentioning` processes adopted by init: their parent ended without them."""
    return [p for p in mentioning(text) if _parent(p) == 1]


def related(pid: int, other: int) -> bool:
    """Whether ``pid`` is ``other``, one of its ancestors or one of its descendants."""
    return pid == other or pid in _ancestors(other) or other in _ancestors(pid)


def _ancestors(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).parents()}
    except psutil.NoSuchProcess:
        return set()


def _parent(process: psutil.Process) -> int:
    try:
        return process.ppid()
    except psutil.NoSuchProcess:
        return 0
