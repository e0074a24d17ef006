"""The reliability campaign (issue 17): faults, restarts, fuzzing and scale, as figures.

``python -m reliability`` (``make reliability``) runs every scenario in its short mode, the one
CI runs: scaled down, and failing (exit status 1) on any leak, duplicate, collision, 5xx or
violation. ``--full`` (``make reliability FULL=1``) runs the full figures. Each scenario is a
module here with ``NAME`` and ``run(full: bool) -> list[Figure]``; the runner prints one table
of every figure, ours beside the baseline where a scenario has one.
"""
