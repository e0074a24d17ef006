"""The tests' hub process helper: a hub that gives up leaves nothing running."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from .hubproc import orphans_of, running_hub
from .util import free_port

pytestmark = pytest.mark.e2e


def test_a_hub_that_gives_up_on_its_service_leaves_no_process(tmp_path: Path) -> None:
    """The build service never answers (as one still importing on a loaded machine): the
    hub exits after its 10 s of tries without stopping the services it started."""
    never_answers = [sys.executable, "-c", "import time; time.sleep(600)", str(tmp_path)]
    extra = textwrap.dedent(
        f"""
        for _service in c.JupyterHub.services:
            if _service["name"] == "image-builder":
                _service["command"] = {never_answers!r}
        """
    )
    ports = (free_port(), free_port(), free_port())
    with pytest.raises(RuntimeError, match="jupyterhub exited"):
        with running_hub(tmp_path, extra, timeout=120, ports=ports):
            pass
    assert orphans_of(tmp_path, api_port=ports[2]) == []  # the service, and the proxy
