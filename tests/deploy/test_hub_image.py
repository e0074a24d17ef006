"""images/hub/Containerfile (and the notebook images') agree with the manifests and the
package (no image is built here: the machine has no container runtime, so the files are read
as a build would, `containerfile`)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import pytest
from jupyterhub.app import JupyterHub

from ..util import REPO
from . import containerfile
from .containerfile import HUB, NOTEBOOKS, covered, final_stage, group_writable
from .schemas import kustomize_build

#: world-writable (mode 1777) in every base image: any UID may write there
WORLD_WRITABLE = {"/tmp"}


def the_hub(overlay: str = "openshift") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The overlay's objects and the hub's container in them."""
    objects = kustomize_build(REPO / "deploy" / "overlays" / overlay)
    (container,) = [c for c in hub_pod(objects)["containers"] if c["name"] == "hub"]
    return objects, container


def hub_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (hub,) = [o for o in objects if o["kind"] == "Deployment"]
    return dict(hub["spec"]["template"]["spec"])


def container_environment(objects: list[dict[str, Any]], container: dict[str, Any]) -> dict:
    """The hub's variables as its container starts: the image's ENV, then the ConfigMaps of
    ``envFrom``, then the literal ``env`` values (references to the pod or a Secret left out)."""
    env = containerfile.environment(final_stage(HUB))
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]].get("data", {}))
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def loaded_config(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """deploy/base/jupyterhub_config.py as the hub loads it with ``env``."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = JupyterHub()
    app.load_config_file(str(REPO / "deploy" / "base" / "jupyterhub_config.py"))
    return app.config


def hub_writes(config: Any) -> set[str]:
    """The directories of every file the configuration has the hub, its proxy and its
    services write (databases, cookie secrets, pid files, passwords) and the services' cwd."""
    files = [
        config.JupyterHub.db_url.removeprefix("sqlite:///"),
        config.JupyterHub.cookie_secret_file,
        config.JupyterHub.pid_file,
        config.ConfigurableHTTPProxy.pid_file,
        config.TrialAuthenticator.dbm_path,
    ]
    directories = {s["cwd"] for s in config.JupyterHub.services if "cwd" in s}
    for service in config.JupyterHub.services:
        for argument in service.get("command", []):
            found = re.fullmatch(r"--\w+\.(?:db_url=sqlite:///|\w+_file=)(/.+)", argument)
            files += [found[1]] if found else []
    assert all(f.startswith("/") for f in files), files
    return directories | {str(Path(f).parent) for f in files}


def test_every_directory_the_hub_writes_is_group_0_writable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects, container = the_hub()
    env = container_environment(objects, container)
    volumes = {v["name"]: v for v in hub_pod(objects)["volumes"]}
    writes = hub_writes(loaded_config(env, monkeypatch)) | {env["HOME"], container["workingDir"]}
    writes |= {
        m["mountPath"]
        for m in container["volumeMounts"]
        if not {"configMap", "secret"} & volumes[m["name"]].keys()
    }
    assert "/srv/jupyterhub" in writes  # the PVC: databases, cookie secrets, passwords
    open_to_group_0 = group_writable(final_stage(HUB)) | WORLD_WRITABLE
    assert not {d for d in writes if not covered(d, open_to_group_0)}, open_to_group_0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_directory_a_notebook_writes_is_group_0_writable(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HOME and the working directory, the image's and the ones the shipped OpenShift
    configuration gives notebook pods (their PVC's mount)."""
    steps = final_stage(path)
    config = loaded_config(container_environment(*the_hub()), monkeypatch).OVKubeSpawner
    writes = {containerfile.workdir(steps), config.working_dir, config.environment["HOME"]}
    writes |= {m["mountPath"] for m in config.volume_mounts}
    writes |= {containerfile.environment(steps)["HOME"]}
    open_to_group_0 = group_writable(steps) | WORLD_WRITABLE
    assert not {d for d in writes if not covered(d, open_to_group_0)}, open_to_group_0


def test_what_the_image_copies_exists_in_the_checkout() -> None:
    copies = [args.split() for name, args in containerfile.instructions(HUB) if name == "COPY"]
    assert copies
    for *sources, _ in copies:
        for source in sources:
            assert (REPO / source).exists(), source


def test_it_runs_as_an_unprivileged_uid_and_bakes_in_no_secret() -> None:
    users = [args for name, args in final_stage(HUB) if name == "USER"]
    assert users[-1].isdigit() and int(users[-1]) != 0
    for name, args in containerfile.instructions(HUB):
        if name in ("ENV", "ARG"):
            assert not re.search(r"PASSWORD|TOKEN|SECRET|_KEY", args, re.I), args


@pytest.mark.parametrize("overlay", ["openshift", "kubernetes"])
def test_the_deployment_runs_the_images_command_with_the_configmaps_config(overlay: str) -> None:
    """The pod gives no command: the Containerfile's CMD runs, and the file it names is the
    ConfigMap's jupyterhub_config.py (which the image also carries, for a plain run)."""
    objects, container = the_hub(overlay)
    assert "command" not in container and "args" not in container
    argv = containerfile.command(final_stage(HUB))
    assert argv[0] == "jupyterhub"
    config_path = Path(argv[argv.index("--config") + 1])
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(config_path.parent)]
    (volume,) = [v for v in hub_pod(objects)["volumes"] if v["name"] == mount["name"]]
    (config_map,) = [o for o in objects if o["metadata"]["name"] == volume["configMap"]["name"]]
    shipped = (REPO / "deploy" / "base" / "jupyterhub_config.py").read_text()
    assert config_map["data"][config_path.name] == shipped
    copies = [a for n, a in containerfile.instructions(HUB) if n == "COPY"]
    assert f"deploy/base/jupyterhub_config.py {config_path}" in copies
    assert container["workingDir"] == containerfile.workdir(final_stage(HUB))


def test_it_installs_the_package_with_its_openshift_extras() -> None:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    assert "jupyterhub-firstuseauthenticator" in setup["options.extras_require"]["openshift"]
    runs = " ".join(args for name, args in containerfile.instructions(HUB) if name == "RUN")
    assert "pip install --no-cache-dir '.[openshift]'" in runs
    assert "npm ci" in runs  # configurable-http-proxy, as package-lock.json pins it
