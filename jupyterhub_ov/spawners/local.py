"""OVLocalSpawner: the local mode's spawner (one machine, no cluster).

Every user runs as the hub's own user (the OpenShift random-UID case): no setuid, no
/etc/passwd entry needed. Each gets a work directory named by the safe slug of their name,
used as HOME and start directory; a bucket with their own credentials; and a menu of local
Python environments, the chosen one's interpreter running ``jupyterhub.singleuser``. An
environment that brings notebooks (built from a git repository) gets them copied into the
work directory on the first start, into a sub-directory named after the image.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Bool, Unicode, default

from .. import menu, names
from ..images.local import LocalImageCatalog, python_of
from ..storage.s3local import BucketUnavailable, LocalBucketProvisioner
from .errors import SpawnFailure
from .workdir import provide_notebooks

#: what OpenShift's random-UID images need from the hub's environment (nss_wrapper)
PASS_THROUGH_ENV = ["NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "LD_PRELOAD", "LD_LIBRARY_PATH"]


class OVLocalSpawner(LocalProcessSpawner):
    """Local processes, one work directory and one bucket per user, images from a catalog."""

    work_root = Unicode(
        config=True,
        help="Directory holding one work directory (HOME) per user, named by the user's slug.",
    )
    bucket_required = Bool(
        True,
        config=True,
        help="""When the bucket cannot be set up: True fails the launch with a clear message,
        False starts the server without bucket variables and logs a warning.""",
    )

    @default("work_root")
    def _default_work_root(self) -> str:
        return os.path.abspath("jupyterhub-ov-users")

    @default("env_keep")
    def _default_env_keep(self) -> list[str]:
        keep = list(super()._env_keep_default())
        return keep + [v for v in PASS_THROUGH_ENV if v not in keep]

    @default("options_form")
    def _default_options_form(self) -> Any:
        async def form(spawner: OVLocalSpawner) -> str:
            # the catalog scans in a thread: a slow or hostile entry never blocks the hub
            images = await spawner.catalog.refresh()
            return menu.render_menu(images, spawner.user_options.get("image"))

        return form

    @property
    def catalog(self) -> LocalImageCatalog:
        return LocalImageCatalog.shared(parent=self)

    @property
    def home_dir(self) -> str:
        return os.path.join(self.work_root, names.directory_name(self.user.name))

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        return menu.options_from_form(formdata)

    def make_preexec_fn(self, name: str) -> Any:
        home = self.home_dir

        def preexec() -> None:  # runs in the child: no setuid, we are the hub's user
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env["USER"] = self.user.name
        env["HOME"] = self.home_dir
        env.setdefault("SHELL", "/bin/sh")
        return env

    async def move_certs(self, paths: dict[str, str]) -> dict[str, str]:
        return paths  # same OS user as the hub: nothing to hand over

    def get_args(self) -> list[str]:
        args = super().get_args()
        if os.geteuid() == 0 and "--allow-root" not in args:
            args.append("--allow-root")  # jupyter_server refuses root otherwise
        return args

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(getattr(self, "_launch_env", {}))
        return env

    async def start(self) -> Any:
        os.makedirs(self.home_dir, mode=0o700, exist_ok=True)
        try:
            images = await self.catalog.refresh()  # a spawn may come before any menu render
            choice = menu.resolve_choice(images, self.user_options.get("image"))
        except menu.NoImageAvailable as e:
            raise SpawnFailure(str(e)) from None
        if choice.note:
            self.log.warning("%s for %s: %s", self._log_name, self.user.name, choice.note)
        environment = choice.tag.reference
        python = python_of(environment)
        if python is None:
            raise SpawnFailure(f"The environment of {choice.image.display_name} has no Python.")
        if choice.tag.notebooks:
            await self._provide_notebooks(choice.tag.notebooks, choice.image.name)
        self.cmd = [python, "-m", "jupyterhub.singleuser"]
        launch_env = {
            "PATH": os.pathsep.join([os.path.join(environment, "bin"), os.environ.get("PATH", "")]),
            "JUPYTERHUB_OV_IMAGE": choice.value,
        }
        launch_env.update(await self._bucket_env())
        self._launch_env = launch_env
        try:
            return await super().start()
        finally:
            self._launch_env = {}  # the secret lives in the child's environment only

    async def _provide_notebooks(self, source: str, name: str) -> None:
        """A convenience: a failed copy is logged, never a failed start."""
        try:
            made = await asyncio.to_thread(provide_notebooks, source, self.home_dir, name)
        except OSError as e:
            self.log.warning("Notebooks of %s not copied for %s: %s", name, self.user.name, e)
            return
        if made:
            self.log.info("Copied the notebooks of %s to %s", name, made)

    _reported_buckets_off = False

    async def _bucket_env(self) -> dict[str, str]:
        provisioner = LocalBucketProvisioner(parent=self, log=self.log)
        if not provisioner.enabled:
            if not OVLocalSpawner._reported_buckets_off:
                OVLocalSpawner._reported_buckets_off = True
                self.log.info(
                    "Buckets are off: no LocalBucketProvisioner.endpoint_url or credentials_file"
                )
            return {}
        try:
            credentials = await provisioner.ensure(self.user.name)
        except BucketUnavailable as e:
            if self.bucket_required:
                raise SpawnFailure(f"Your storage bucket could not be set up: {e}") from None
            self.log.warning("Starting %s without a bucket: %s", self.user.name, e)
            return {}
        return credentials.environment()
