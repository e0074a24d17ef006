"""The reliability campaign's figures and table (reliability/figures.py)."""

from __future__ import annotations

from reliability.__main__ import main
from reliability.figures import at_least, info, table, zero


def test_zero_passes_only_at_zero() -> None:
    assert zero("s", "leaks", 0).ok
    assert not zero("s", "leaks", 1).ok
    assert at_least("s", "ready", 10, 10).ok
    assert not at_least("s", "ready", 9, 10).ok


def test_the_table_marks_failures_and_formats_numbers() -> None:
    text = table([zero("storm", "orphaned pods", 2), info("restart", "seconds", 12.345, 96.0)])
    assert "| storm | orphaned pods | 2 |  | 0 | FAIL |" in text
    assert "| restart | seconds | 12.3 | 96 |  | ok |" in text


def test_a_failed_figure_fails_the_run(monkeypatch) -> None:
    import reliability.__main__ as runner

    monkeypatch.setattr(runner, "SCENARIOS", ["x"])
    monkeypatch.setattr(runner, "run_scenario", lambda name, full: [zero(name, "leaks", 1)])
    assert main([]) == 1
    monkeypatch.setattr(runner, "run_scenario", lambda name, full: [zero(name, "leaks", 0)])
    assert main([]) == 0
