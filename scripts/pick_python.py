"""Print the interpreter `make` builds .venv with (run by the Makefile; standard library only).

As root, local mode runs every user's server under an OS account of its own, and those
accounts run the hub's own environment (the "Default environment" and the base of every built
one). So the interpreter and its standard library must lie in directories every account can
pass. A `python3` installed under a closed home (pyenv under /root) cannot serve them: take
the system's /usr/bin/python3 then, if it is new enough. Otherwise, and when not root, keep
`python3` (a spawn that cannot reach it says so clearly).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

FLOOR = (3, 11)
SYSTEM = "/usr/bin/python3"
PROBE = (
    f"import os, sys; print(sys.version_info >= {FLOOR!r} and 'ok');"
    " print(os.path.realpath(sys.executable)); print(sys.base_prefix)"
)


def passable(path: str) -> bool:
    """Every directory above ``path`` lets others through (o+x)."""
    path = os.path.realpath(path)
    while (parent := os.path.dirname(path)) != path:
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return False
        path = parent
    return True


def usable(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", PROBE], capture_output=True, text=True, timeout=30, check=True
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return False
    executable, base = out[1], out[2]
    return out[0] == "ok" and passable(executable) and passable(os.path.join(base, "lib", "x"))


def main() -> None:
    default = sys.argv[1] if len(sys.argv) > 1 else "python3"
    if os.geteuid() == 0 and not usable(default) and usable(SYSTEM):
        print(SYSTEM)
    else:
        print(default)


if __name__ == "__main__":
    main()
