"""Memory of processes and of the machine, from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def _field(path: str, name: str) -> int:
    """A ``Name:   123 kB`` line of a /proc file, in bytes (0 when absent or gone)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return 0


def rss(pid: int) -> int:
    return _field(f"/proc/{pid}/status", "VmRSS")


def peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory since it started."""
    return _field(f"/proc/{pid}/status", "VmHWM")


def pss(pid: int) -> int:
    """Proportional set size: its own pages plus its share of pages shared with others."""
    return _field(f"/proc/{pid}/smaps_rollup", "Pss")


def available_bytes() -> int:
    return _field("/proc/meminfo", "MemAvailable")
