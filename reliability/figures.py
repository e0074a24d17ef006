"""One figure of the campaign: what was measured, ours and the baseline's, and whether it is
within what the scenario expects (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Value = int | float | str


@dataclass(frozen=True)
class Figure:
    """``ok=False`` fails the run; ``expect`` says in words what a passing value is."""

    scenario: str
    name: str
    ours: Value
    baseline: Value | None = None
    expect: str = ""
    ok: bool = True


def zero(scenario: str, name: str, value: int, baseline: Value | None = None) -> Figure:
    """A count that must be 0 (leaks, duplicates, collisions, 5xx, violations)."""
    return Figure(scenario, name, value, baseline, expect="0", ok=value == 0)


def at_least(scenario: str, name: str, value: float, bound: float) -> Figure:
    return Figure(scenario, name, value, expect=f">= {bound:g}", ok=value >= bound)


def info(scenario: str, name: str, value: Value, baseline: Value | None = None) -> Figure:
    """A measurement with no pass/fail bound (times, memory, request counts)."""
    return Figure(scenario, name, value, baseline)


def _cell(value: Value | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def table(figures: Iterable[Figure]) -> str:
    """The figures as one Markdown table (the form the closing notes quote)."""
    lines = [
        "| scenario | figure | ours | baseline | expect | |",
        "|---|---|---:|---:|---|---|",
    ]
    for f in figures:
        mark = "ok" if f.ok else "FAIL"
        lines.append(
            f"| {f.scenario} | {f.name} | {_cell(f.ours)} | {_cell(f.baseline)} "
            f"| {f.expect} | {mark} |"
        )
    return "\n".join(lines)
