"""Hostile catalog entries: each is skipped with one log line, the rest of the menu renders.

Whoever can write a directory in ``catalog_dir`` must not be able to take the hub down: no
entry may block the event loop, raise out of a scan, or put markup into the menu.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from jupyterhub_ov import menu
from jupyterhub_ov.images.local import HUB_IMAGE_NAME, LocalImageCatalog
from jupyterhub_ov.images.manifest import MANIFEST_FILE
from jupyterhub_ov.spawners.local import OVLocalSpawner

from ..util import menu_island, menu_values
from .test_local_catalog import GOOD, make_env

LIMIT = 1024 * 1024  # the default max_manifest_size


def _write(text: str | bytes) -> Callable[[Path], None]:
    def make(entry: Path) -> None:
        data = text if isinstance(text, bytes) else text.encode()
        (entry / MANIFEST_FILE).write_bytes(data)

    return make


def _manifest(**change: object) -> Callable[[Path], None]:
    return _write(json.dumps(GOOD | {"name": "bad-notebook"} | change))


def _fifo(entry: Path) -> None:
    os.mkfifo(entry / MANIFEST_FILE)


def _link(target: str) -> Callable[[Path], None]:
    def make(entry: Path) -> None:
        (entry / MANIFEST_FILE).symlink_to(target)

    return make


def _loop(entry: Path) -> None:
    (entry / MANIFEST_FILE).symlink_to(entry / "other")
    (entry / "other").symlink_to(entry / MANIFEST_FILE)


def _link_to_fifo(entry: Path) -> None:
    os.mkfifo(entry / "fifo")
    (entry / MANIFEST_FILE).symlink_to(entry / "fifo")


def _environment_fifo(entry: Path) -> None:  # the environment named is a FIFO
    os.mkfifo(entry / "fifo")
    _manifest(environment=str(entry / "fifo"))(entry)


def _directory(entry: Path) -> None:
    (entry / MANIFEST_FILE).mkdir()
    (entry / MANIFEST_FILE / "x").write_text("{}")


def _socket(entry: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(entry / MANIFEST_FILE))
    sock.close()  # the socket file stays


def _sparse(entry: Path) -> None:  # 10 GiB that take no disk: refused by size, never read
    with open(entry / MANIFEST_FILE, "wb") as f:
        f.truncate(10 * 1024**3)


def _python_loop(entry: Path) -> None:
    python = entry / "bin" / "python"
    python.unlink()
    python.symlink_to(entry / "bin" / "python3")
    (entry / "bin" / "python3").symlink_to(python)
    _manifest()(entry)


DEEP = "[" * 100_000 + "]" * 100_000

#: (id, how to make the entry, what its one log line says)
HOSTILE = [
    ("fifo", _fifo, "is a FIFO"),
    ("symlink-to-dev-zero", _link("/dev/zero"), "is a symbolic link"),
    ("symlink-to-fifo", _link_to_fifo, "is a symbolic link"),
    ("symlink-loop", _loop, "is a symbolic link"),
    ("dangling-symlink", _link("/nonexistent/x"), "is a symbolic link"),
    ("directory", _directory, "is a directory"),
    ("socket", _socket, "is a socket"),
    ("over-the-cap", _write(" " * (LIMIT + 1)), f"over {LIMIT} bytes"),
    ("sparse-10GiB", _sparse, f"over {LIMIT} bytes"),
    ("nested-100000-deep", _write(DEEP), "RecursionError"),
    ("nested-in-packages", _write('{"packages": ' + DEEP + "}"), "RecursionError"),
    ("huge-integer", _write('{"order": ' + "9" * 10_000 + "}"), "integer string conversion"),
    ("invalid-utf8", _write(b'{"name": "\xff\xfe-notebook"}'), "codec can't decode"),
    ("a-list", _write("[1, 2, 3]"), "must be a JSON object"),
    ("a-string", _write('"hello"'), "must be a JSON object"),
    ("null", _write("null"), "must be a JSON object"),
    ("empty", _write(""), "Expecting value"),
    ("nul-bytes", _write("\x00" * 100), "Expecting value"),
    ("packages-of-lists", _manifest(packages=[["x"]]), "'packages'"),
    ("package-name-a-list", _manifest(packages=[{"name": ["x"]}]), "'packages'"),
    ("package-version-a-map", _manifest(packages=[{"name": "x", "version": {}}]), "'packages'"),
    ("name-a-map", _manifest(name={"a": 1}), "must be a DNS label"),
    ("phase-a-list", _manifest(phase=["Succeeded"]), "phase"),
    ("tag-a-map", _manifest(tag={"t": 1}), "is not a valid image tag"),
    ("order-infinite", _manifest(order=float("inf")), "'order' must be an integer"),
    ("order-a-bool", _manifest(order=True), "'order' must be an integer"),
    ("display-name-a-list", _manifest(display_name=["x"]), "'display_name' must be a string"),
    ("url-a-number", _manifest(url=3), "'url' must be a string"),
    ("environment-nul", _manifest(environment="/a\x00b"), "must be an absolute path"),
    ("environment-a-fifo", _environment_fifo, "no bin/python"),
    ("python-symlink-loop", _python_loop, "no bin/python"),
]


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A catalog holding one good environment, which must always stay in the menu."""
    root = tmp_path / "catalog"
    root.mkdir()
    make_env(root, "good", GOOD)
    return root


def catalog(root: Path, **config: object) -> LocalImageCatalog:
    return LocalImageCatalog(catalog_dir=str(root), rescan_interval=0, **config)


def skipped_lines(caplog: pytest.LogCaptureFixture, entry: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records if str(entry) in r.getMessage()]


@pytest.mark.parametrize("make, says", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
async def test_a_hostile_entry_is_skipped_once_and_the_menu_renders(
    catalog_dir: Path, caplog: pytest.LogCaptureFixture, make, says
) -> None:
    entry = make_env(catalog_dir, "hostile", None)
    make(entry)
    images = catalog(catalog_dir)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # three menu renders: one log line
            found = await asyncio.wait_for(images.refresh(), 10)
            html = menu.render_menu(found)
    assert [i.name for i in found] == [HUB_IMAGE_NAME, "sci-notebook"]
    assert "sci-notebook:latest" in menu_values(html) and "bad-notebook" not in html
    (line,) = skipped_lines(caplog, entry)
    assert line.startswith(f"Skipping local environment {entry}: ") and says in line, line
    assert len(line) < 500  # a huge manifest is not copied into the log


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https:no-host",
        "file:///etc/passwd",
    ],
)
async def test_a_link_that_is_not_http_is_dropped_with_one_warning(
    catalog_dir: Path, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    entry = make_env(catalog_dir, "linked", GOOD | {"name": "link-notebook", "url": url})
    images = catalog(catalog_dir)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            found = await images.refresh()
            html = menu.render_menu(found)
    (linked,) = [i for i in found if i.name == "link-notebook"]
    assert linked.url is None  # still offered, without its link
    raw, data, rest = menu_island(html)
    assert [im[3] for im in data["im"] if im[0] == "link-notebook"] == [""]
    for text in (raw, rest):
        assert "href" not in text and "script:" not in text.lower() and "data:" not in text
    (line,) = skipped_lines(caplog, entry)
    assert "is not an http(s) URL; no link shown" in line


async def test_html_in_names_descriptions_and_packages_is_escaped(catalog_dir: Path) -> None:
    script = "<script>alert(1)</script>"
    manifest = GOOD | {
        "name": "html-notebook",
        "display_name": f"Evil {script}",
        "description": '<img src=x onerror="alert(2)">',
        "creator": script,
        "python_version": f"3.11{script}",
        "packages": [{"name": f"pkg{script}", "version": '"><b>'}],
        "url": 'https://example.org/"><script>alert(3)</script>',
    }
    make_env(catalog_dir, "html", manifest)
    html = menu.render_menu(await catalog(catalog_dir).refresh())
    # the text travels as JSON that cannot end its script element; the page's script puts it
    # in the DOM with textContent and an href property only (tests/e2e/test_menu_browser.py)
    raw, data, rest = menu_island(html)
    assert rest.count("<script") == 2 and "<img" not in rest and "<b>" not in rest
    (row,) = [im for im in data["im"] if im[0] == "html-notebook"]
    assert row[1] == f"Evil {script}" and row[2] == '<img src=x onerror="alert(2)">'
    assert any(f'pkg{script} "><b>' in text for pair in data["sw"] for text in pair)
    assert row[3] == 'https://example.org/"><script>alert(3)</script>'
    assert "\\u003cscript\\u003e" in raw and '\\"\\u003e' in raw


async def test_a_fifo_does_not_block_the_event_loop(tmp_path: Path, catalog_dir: Path) -> None:
    """Main read the manifest with read_text on the event loop: opening a FIFO waits for a
    writer, so the hub froze. A writer arriving after 3 s lets such a read end, so this test
    fails (the ticks stop for 3 s) instead of hanging."""
    entry = make_env(catalog_dir, "fifo", None)
    fifo = entry / MANIFEST_FILE
    os.mkfifo(fifo)
    stop = threading.Event()

    def late_writer() -> None:
        if stop.wait(3):
            return
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO: nobody is reading
        except OSError:
            return
        os.write(fd, b"{}")
        os.close(fd)

    threading.Thread(target=late_writer, daemon=True).start()
    spawner = OVLocalSpawner(
        user=SimpleNamespace(name="ada", url="/user/ada/"), config=_config(tmp_path, catalog_dir)
    )
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0.05)
        html = await asyncio.wait_for(spawner.get_options_form(), 10)
        await asyncio.sleep(0.05)
    finally:
        stop.set()
        ticking.cancel()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) < 1, f"the event loop stood still for {max(gaps):.1f} s"
    assert "sci-notebook:latest" in menu_values(html) and "default-notebook:latest" in menu_values(
        html
    )


def _config(tmp_path: Path, catalog_dir: Path) -> Config:
    c = Config()
    c.OVLocalSpawner.work_root = str(tmp_path / "users")
    c.LocalImageCatalog.catalog_dir = str(catalog_dir)
    c.LocalImageCatalog.rescan_interval = 0
    return c


class _GatedCatalog(LocalImageCatalog):
    """Counts scans and holds each until released, so renders overlap for sure."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.scans = 0
        self.gate = threading.Event()

    def scan(self) -> None:
        self.scans += 1
        self.gate.wait(10)
        super().scan()


async def test_concurrent_renders_share_one_scan(catalog_dir: Path) -> None:
    images = _GatedCatalog(catalog_dir=str(catalog_dir), rescan_interval=0)
    renders = [asyncio.create_task(images.refresh()) for _ in range(5)]
    await asyncio.sleep(0.2)
    assert images.scans == 1 and not any(r.done() for r in renders)
    images.gate.set()
    results = await asyncio.gather(*renders)
    assert images.scans == 1
    assert all([i.name for i in r] == [HUB_IMAGE_NAME, "sci-notebook"] for r in results)


async def test_images_on_the_event_loop_reads_nothing_and_starts_a_scan(
    catalog_dir: Path,
) -> None:
    images = _GatedCatalog(catalog_dir=str(catalog_dir), rescan_interval=3600)
    assert [i.name for i in images.images()] == [HUB_IMAGE_NAME]  # before any scan
    await asyncio.sleep(0.1)
    assert images.scans == 1  # started in a thread, held by the gate: the call returned
    images.gate.set()
    await images.refresh()
    assert [i.name for i in images.images()] == [HUB_IMAGE_NAME, "sci-notebook"]
    assert images.scans == 1  # within rescan_interval: the cached result


def test_an_unreadable_catalog_is_logged_once(tmp_path: Path, caplog) -> None:
    root = tmp_path / "not-a-directory"
    root.write_text("")
    images = catalog(root)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert [i.name for i in images.images()] == [HUB_IMAGE_NAME]
    assert len([r for r in caplog.records if "Cannot read image catalog" in r.getMessage()]) == 1
