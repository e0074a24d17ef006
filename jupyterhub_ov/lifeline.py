"""Processes that must not outlive the process that started them.

The hub starts its managed services (the embedded S3 server, the platform service, the idle
culler) and stops them when it shuts down; but a hub that is killed (SIGKILL, the OOM killer,
a crash) stops nothing, and its services live on, holding their ports and, for the embedded
S3 server, keys the restarted hub no longer has. The restarted hub then starts a second copy
of each, which cannot bind. The platform service, in turn, starts build tools and local model
servers. Linux's ``prctl(PR_SET_PDEATHSIG)`` has the kernel signal a process when its parent
dies, which no clean-up code of the parent has to survive to do.

    python -m jupyterhub_ov.lifeline -- COMMAND [ARGS ...]

sets that signal (SIGTERM: the command may still clean up) and then executes ``COMMAND`` in
the same process, so the command needs no change (the setting survives ``execve``).
:func:`wrap` makes such a command line; :func:`die_with_parent` is also a ``preexec_fn``.
Elsewhere than Linux both are no-ops: the command simply runs. A parent that dies while the
lifeline is still starting (before its ``prctl``, some tens of milliseconds) is noticed only
if it was still alive when the lifeline started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Sequence

#: prctl(2)'s option: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Have the kernel send ``sig`` to this process when its parent exits."""
    if _LIBC is not None and _LIBC.prctl(PR_SET_PDEATHSIG, sig) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def die_with_parent_killed() -> None:
    """:func:`die_with_parent` with SIGKILL (a ``preexec_fn`` for work with nothing to save)."""
    die_with_parent(signal.SIGKILL)


def wrap(command: Sequence[str]) -> list[str]:
    """``command`` run so that it ends (SIGTERM) when the process that starts it dies."""
    return [sys.executable, "-m", "jupyterhub_ov.lifeline", "--", *command]


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: python -m jupyterhub_ov.lifeline -- COMMAND [ARGS ...]")
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the kernel was told to watch it
        sys.exit(f"lifeline: the process that started {args[0]} has already exited")
    try:
        os.execvp(args[0], args)
    except OSError as e:
        sys.exit(f"lifeline: cannot run {args[0]}: {e.strerror}")


if __name__ == "__main__":
    main()
