"""deploy/z2jh/values.yaml loads as the JupyterHub Helm chart loads hub.extraConfig.

The chart's jupyterhub_config.py ends with::

    for key, config_py in sorted(get_config("hub.extraConfig", {}).items()):
        print("Loading extra config: %s" % key)
        exec(config_py)

run by JupyterHub's config loader, so each snippet sees ``c`` (after the chart has set
``c.JupyterHub.services`` and ``load_roles`` to lists). The file below does the same, and a
real JupyterHub application loads it and resolves the spawner.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from jupyterhub.app import JupyterHub

from jupyterhub_ov.service.scopes import READ_SCOPE
from jupyterhub_ov.spawners.kube import OVKubeSpawner

from ..util import REPO

VALUES = REPO / "deploy" / "z2jh" / "values.yaml"

#: the chart's jupyterhub_config.py, reduced to what hub.extraConfig depends on
CHART_CONFIG = """
import yaml

with open({values!r}) as f:
    values = yaml.safe_load(f)


def get_config(key, default=None):
    value = values
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


c.JupyterHub.services = []
c.JupyterHub.load_roles = []
for key, config_py in sorted(get_config("hub.extraConfig", {{}}).items()):
    print("Loading extra config: %s" % key)
    exec(config_py)
"""


def test_the_extra_config_configures_the_platform_as_the_chart_loads_it(tmp_path: Path) -> None:
    config_file = tmp_path / "jupyterhub_config.py"
    config_file.write_text(CHART_CONFIG.format(values=str(VALUES)))
    snippets = yaml.safe_load(VALUES.read_text())["hub"]["extraConfig"]
    assert len(snippets) == 2

    app = JupyterHub()
    app.load_config_file(str(config_file))

    assert app.spawner_class is OVKubeSpawner
    assert app.config.OVKubeSpawner.bucket_storage_class == "openshift-storage.noobaa.io"
    assert [size["name"] for size in app.config.OVKubeSpawner.sizes] == ["small", "large"]
    (service,) = app.services
    assert service["name"] == "image-builder"
    assert "--PlatformService.backend_class=openshift" in service["command"]
    (role,) = app.load_roles
    assert READ_SCOPE in role["scopes"]
