"""Small helpers shared by the tests."""

from __future__ import annotations

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def menu_island(page: str) -> tuple[str, dict, str]:
    """A rendered spawner menu split into its JSON data island (raw text, parsed) and the rest
    of the page without the island and without the menu's own script's text. Checks that the
    island holds no character the HTML parser could act on inside a script element."""
    import json
    import re

    found = re.search(r'(<script type="application/json" id="ov-data">)(.*?)</script>', page, re.S)
    assert found is not None, "no image menu in the page"
    raw = found[2]
    assert "<" not in raw and ">" not in raw and "&" not in raw, raw[:200]
    rest = page[: found.start(2)] + page[found.end(2) :]
    rest = re.sub(
        r"<script>\(\(\) => \{.*?\}\)\(\);\s*</script>", "<script></script>", rest, flags=re.S
    )
    return raw, json.loads(raw), rest


def menu_values(page: str) -> set[str]:
    """The ``<image key>:<tag>`` values a rendered spawner menu offers, read from its JSON data
    island (the page's script draws one radio per value from it)."""
    _, data, _ = menu_island(page)
    return {f"{im[0]}:{tag[0]}" for im in data["im"] for tag in im[6]}
