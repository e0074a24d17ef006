from __future__ import annotations

import sys

import pytest

from ..environments import MARKER, make_environment
from ..hubproc import running_hub


@pytest.fixture(scope="package")
def local_hub(tmp_path_factory):
    """The shipped config, as is, on free ports, with a marker and a broken environment."""
    directory = tmp_path_factory.mktemp("hub")
    environments = directory / "data" / "environments"
    environments.mkdir(parents=True)
    make_environment(environments / "marker", MARKER)
    broken = environments / "broken"
    (broken / "bin").mkdir(parents=True)
    (broken / "bin" / "python").symlink_to(sys.executable)
    (broken / "notebook-image.json").write_text('{"name": "broken-notebook", ')
    # as on OpenShift with a random UID: nss_wrapper settings must reach the servers
    nss = {"NSS_WRAPPER_PASSWD": "/nss/passwd", "NSS_WRAPPER_GROUP": "/nss/group"}
    with running_hub(directory, env=nss) as hub:
        yield hub
