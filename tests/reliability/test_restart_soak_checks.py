"""The pure checks of the restart and soak scenarios (reliability/restart.py, load.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from reliability.load import Load, quantile
from reliability.restart import first_log_time, fitting_servers, replaced_pods

MIB = 2**20


def test_pods_gone_or_recreated_count_as_replaced() -> None:
    before = {"a": "1", "b": "2", "c": "3"}
    assert replaced_pods(before, dict(before)) == 0
    assert replaced_pods(before, {"a": "1", "b": "9", "d": "4"}) == 2  # b recreated, c gone
    assert replaced_pods({}, {"a": "1"}) == 0  # new pods are not replacements


@pytest.mark.parametrize(
    ("wanted", "available_mib", "fits"),
    [(3000, 100_000, 3000), (3000, 2000, 100), (50, 2000, 50), (3000, 1, 1)],
)
def test_the_full_run_takes_what_fits(wanted: int, available_mib: int, fits: int) -> None:
    assert fitting_servers(wanted, available_mib * MIB, 10 * MIB, 0.5) == fits


def test_the_hubs_first_log_line_is_found() -> None:
    log = (
        "/venv/lib/warnings.py:1: a warning\n"
        "[I 2026-12-02 07:57:59.094 JupyterHub app:3374] Running JupyterHub version 5.5.4\n"
        "[I 2026-12-02 07:58:00.000 JupyterHub app:1] later\n"
    )
    assert first_log_time(log) == datetime(2026, 12, 2, 7, 57, 59, 94000)
    assert first_log_time("no log yet") is None


def test_quantiles_are_values_really_seen() -> None:
    values = [float(v) for v in range(1, 101)]
    assert quantile(values, 0.99) == 99.0
    assert quantile(values[:50], 0.99) == 50.0  # p99 of 50 samples is their largest
    assert quantile([3.0], 0.5) == 3.0
    with pytest.raises(ValueError):
        quantile([], 0.99)


def test_unexpected_answers_are_errors_and_5xx_are_counted_apart() -> None:
    load = Load()
    assert load.record("GET /a", 0.01, 200, (200,))
    assert not load.record("GET /a", 0.02, 404, (200,))
    assert not load.record("POST /b", 0.5, 503, (201, 202))
    load.error("spawn", "not ready in 90 s")
    assert len(load.errors) == 3
    assert load.server_errors() == 1
    assert load.counts() == {"GET /a": 2, "POST /b": 1}
    assert load.p99_ms() == {"GET /a": 20.0, "POST /b": 500.0}
