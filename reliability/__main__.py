"""Run the campaign's scenarios and print one table: ``python -m reliability [--full]
[--only NAME ...]``. Exit status 1 when any figure is out of bounds or a scenario crashed."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from .figures import Figure, table

# the order the table reads in; each is reliability/<name>.py with NAME and run(full)
SCENARIOS: list[str] = [
    "names",
    "faultstorm",
    "hubcrash",
    "servicecrash",
    "podsecurity",
    "fuzzing",
    "restart",
    "soak",
]


def run_scenario(module_name: str, full: bool) -> list[Figure]:
    started = time.monotonic()
    try:
        module = importlib.import_module(f"reliability.{module_name}")
        figures = list(module.run(full))
    except Exception:  # a crashed scenario is a failed figure, and the others still run
        traceback.print_exc()
        return [Figure(module_name, "scenario crashed (see the traceback above)", "", ok=False)]
    took = time.monotonic() - started
    print(f"reliability: {module_name} done in {took:.0f} s", file=sys.stderr, flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full figures, not CI's short mode")
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, help="run only these scenarios")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for name in args.only or SCENARIOS:
        figures += run_scenario(name, args.full)
    print(table(figures))
    failed = [f for f in figures if not f.ok]
    for f in failed:
        print(f"reliability: FAIL {f.scenario}: {f.name} = {f.ours} (expect {f.expect})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
