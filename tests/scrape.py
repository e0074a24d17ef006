"""Scraping a Prometheus endpoint in tests, with prometheus_client's own text parser; and
whether a server was stopped (by the culler)."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str, token: str, session: requests.Session | None = None) -> dict[str, list]:
    """{metric family name: its samples}, parsed by prometheus_client's own parser."""
    get = session.get if session is not None else requests.get
    r = get(url, headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(samples: list, name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return float(found[0])


def culled(user: dict) -> bool:
    """Whether the user's default server is stopped (a user model with stopped servers)."""
    server = user["servers"].get("")
    return not server or bool(server.get("stopped"))
