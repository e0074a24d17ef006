"""images/hub/Containerfile agrees with the manifests and the package (no image is built here:
the machine has no container runtime, so this reads the file as a build would)."""

from __future__ import annotations

import configparser
import json
import re

from ..util import REPO
from .schemas import kustomize_build

CONTAINERFILE = REPO / "images" / "hub" / "Containerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_what_the_image_copies_exists_in_the_checkout() -> None:
    copies = [args.split() for name, args in instructions() if name == "COPY"]
    assert copies
    for *sources, _ in copies:
        for source in sources:
            assert (REPO / source).exists(), source


def test_it_runs_as_an_unprivileged_uid_and_bakes_in_no_secret() -> None:
    users = [args for name, args in instructions() if name == "USER"]
    assert users[-1].isdigit() and int(users[-1]) != 0
    for name, args in instructions():
        if name in ("ENV", "ARG"):
            assert not re.search(r"PASSWORD|TOKEN|SECRET|_KEY", args, re.I), args


def test_its_command_and_config_are_the_deployments() -> None:
    (cmd,) = [json.loads(args) for name, args in instructions() if name == "CMD"]
    (hub,) = [
        o for o in kustomize_build(REPO / "deploy" / "overlays" / "openshift")
        if o["kind"] == "Deployment"
    ]  # fmt: skip
    container = hub["spec"]["template"]["spec"]["containers"][0]
    assert cmd == container["command"] + container["args"]
    config_path = container["args"][-1]
    assert f"COPY deploy/base/jupyterhub_config.py {config_path}" in CONTAINERFILE.read_text()


def test_it_installs_the_package_with_its_openshift_extras() -> None:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    assert "jupyterhub-firstuseauthenticator" in setup["options.extras_require"]["openshift"]
    runs = " ".join(args for name, args in instructions() if name == "RUN")
    assert "pip install --no-cache-dir '.[openshift]'" in runs
    assert "npm ci" in runs  # configurable-http-proxy, as package-lock.json pins it
