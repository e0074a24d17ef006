"""OVLocalSpawner: the local mode's spawner (one machine, no cluster).

When the hub runs as root (the default deployment), each user's server runs under a system
account of its own (``jupyter-<slug>``, created on the first start; see `accounts`), in a
work directory owned by that account and closed to everyone else: users cannot read each
other's files or processes, nor the hub's state. A hub that cannot switch users (not root, the
OpenShift random-UID pod) runs every server as its own identity, but only when the admin chose
that explicitly with ``shared_identity``: there users are not isolated from each other or from
the hub.

Each user gets a work directory named by the safe slug of their name, used as HOME and start
directory; a bucket with their own credentials; and a menu of local Python environments, the
chosen one's interpreter running ``jupyterhub.singleuser``. An environment that brings
notebooks (built from a git repository) gets them copied into the work directory on the first
start, into a sub-directory named after the image; the copy runs as the user.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Bool, List, TraitError, Unicode, default, validate

from .. import menu, metrics, names
from ..buckets import JUPYTER_CONFIG_DIR
from ..images.local import LocalImageCatalog, python_of
from ..netenv import NETWORK_ENV, merged_keep
from ..storage.s3local import BucketUnavailable, LocalBucketProvisioner
from . import accounts
from .errors import SpawnFailure
from .workdir import provide_notebooks

#: what OpenShift's random-UID images need from the hub's environment (nss_wrapper)
PASS_THROUGH_ENV = ["NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "LD_PRELOAD", "LD_LIBRARY_PATH"]

SHARED_IDENTITY_WARNING = (
    "OVLocalSpawner.shared_identity is on: every user's server runs as the hub's own OS user."
    " Users are NOT isolated: any user can read every other user's files and processes and the"
    " hub's own state (its database, cookie secret, S3 admin key) and so act as any user or"
    " admin. Use it only for a single trusted user, or where each user has a container of their"
    " own."
)

_warned_shared = False


def warn_shared_identity(log: Any) -> None:
    """Log `SHARED_IDENTITY_WARNING`, once per process (the config at start, else the first
    spawner)."""
    global _warned_shared
    if not _warned_shared:
        _warned_shared = True
        log.warning(SHARED_IDENTITY_WARNING)


class OVLocalSpawner(LocalProcessSpawner):
    """The local mode's spawner (`c.JupyterHub.spawner_class = "ov-local"`): local
    processes, one work directory and one bucket (`LocalBucketProvisioner`) per user, images
    from `LocalImageCatalog`. How users are kept apart:
    [README](../README.md#users-and-isolation).

    As root, the server started is `<environment>/bin/python -m jupyterhub.singleuser` of the
    chosen image, run as the user's own account (`<system_user_prefix><slug>`, created on the
    first start) in its work directory, which the hub hands to that account (mode 0700;
    `work_root` 0711). A work directory from the shared-identity layout (owned by the hub) is
    handed over whole; one owned by anybody else is refused. With `shared_identity` the
    server runs as the hub's user (with `--allow-root` when that is root).
    `JUPYTERHUB_OV_IMAGE` tells it which image; `JUPYTER_CONFIG_PATH` names the start-up
    configuration that shows the buckets in the file browser where the environment has
    jupyter-fs ([docs/storage.md](storage.md#buckets-in-the-file-browser)). An image whose
    manifest has `notebooks` (a GitRepository build) gets its notebooks copied to
    `<work dir>/<image name>/` on the start, by a process running as the user, unless that
    directory exists (a user's files are never overwritten); a failed copy is logged and
    does not stop the start.
    `internal_ssl` is refused with per-user accounts (its certificates would have to be
    written into the user's directory by root).
    """

    work_root = Unicode(
        config=True,
        help="""Directory holding one work directory per user, the server's HOME and start
        directory, named by the user's safe slug (alice; alice---3bc51062 for Alice). It
        survives restarts. The hub keeps it at mode 0711 so users reach their own directory
        but cannot list the others. Default: jupyterhub-ov-users in the hub's working
        directory (the shipped config: data/users).""",
    )
    bucket_required = Bool(
        True,
        config=True,
        help="""When the user's bucket cannot be set up (S3 unreachable, a name taken by
        someone else's bucket): True fails the launch with a message saying why, False starts
        the server without bucket variables and logs a warning. No effect while buckets are
        off (LocalBucketProvisioner without an endpoint).""",
    )
    shared_identity = Bool(
        False,
        config=True,
        help="""Run every user's server as the hub's own OS user instead of an account per
        user. Required when the hub is not root (it cannot switch users then, e.g. OpenShift's
        random-UID pods), refused otherwise only by your judgement: users are then NOT isolated
        from each other or from the hub's state. The hub logs a warning at start.""",
    )
    system_user_prefix = Unicode(
        "jupyter-",
        config=True,
        help="""Per-user system accounts are named <prefix><user slug> (The Littlest
        JupyterHub's scheme), at most 32 characters in all. Lowercase letters, digits and
        single hyphens, ending in a hyphen; at most 20 characters. An account of such a name
        that jupyterhub-ov did not create (see add_user_cmd's comment) is never used: that
        user's start fails. Ignored with shared_identity.""",
    )
    add_user_cmd = List(
        Unicode(),
        list(accounts.ADD_USER_CMD),
        config=True,
        help="""Command creating a user's system account on their first start, run by the
        hub as root (as LocalAuthenticator.add_user_cmd). {name}, {home} and {comment} are
        replaced in every argument; the comment marks the account as jupyterhub-ov's and must
        be kept. The account needs no home of its own (the work directory is its HOME) and no
        login shell. Ignored with shared_identity.""",
    )

    @default("work_root")
    def _default_work_root(self) -> str:
        """jupyterhub-ov-users in the hub's working directory."""
        return os.path.abspath("jupyterhub-ov-users")

    @default("env_keep")
    def _default_env_keep(self) -> list[str]:
        """LocalProcessSpawner's list, plus NSS_WRAPPER_PASSWD, NSS_WRAPPER_GROUP, LD_PRELOAD,
        LD_LIBRARY_PATH (OpenShift's random-UID images) and the CA, proxy and index variables
        of jupyterhub_ov.netenv.NETWORK_ENV (docs/builder.md, "Behind a proxy or a custom
        CA"): the hub's variables of those names are passed to the servers."""
        # the hub's CA bundle, proxy and index settings: pip, uv, requests and boto3 in a
        # notebook reach the network as the hub does (netenv says which and why)
        return merged_keep(super()._env_keep_default(), PASS_THROUGH_ENV, NETWORK_ENV)

    @default("options_form")
    def _default_options_form(self) -> Any:
        """The image menu: the images of LocalImageCatalog."""

        async def form(spawner: OVLocalSpawner) -> str:
            # the catalog scans in a thread: a slow or hostile entry never blocks the hub
            images = await spawner.catalog.refresh()
            return menu.render_menu(images, spawner.user_options.get("image"))

        return form

    @validate("system_user_prefix")
    def _valid_prefix(self, proposal: Any) -> str:
        try:
            names.system_user_name("x", proposal.value)
        except ValueError as e:
            raise TraitError(str(e)) from e
        return str(proposal.value)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._account: accounts.Account | None = None
        if self.shared_identity:
            warn_shared_identity(self.log)

    @property
    def catalog(self) -> LocalImageCatalog:
        return LocalImageCatalog.shared(parent=self)

    @property
    def home_dir(self) -> str:
        return os.path.join(self.work_root, names.directory_name(self.user.name))

    @property
    def system_user(self) -> str:
        """The account this user's server runs as ('' in shared-identity mode)."""
        if self.shared_identity:
            return ""
        return names.system_user_name(self.user.name, self.system_user_prefix)

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        return menu.options_from_form(formdata)

    def make_preexec_fn(self, name: str) -> Any:
        home = self.home_dir
        switch = set_user_setuid(self._account.name, chdir=False) if self._account else None

        def preexec() -> None:  # runs in the child, before exec
            if switch is not None:
                switch()
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env["USER"] = self.system_user or self.user.name
        env["HOME"] = self.home_dir
        env.setdefault("SHELL", "/bin/sh")
        return env

    async def move_certs(self, paths: dict[str, str]) -> dict[str, str]:
        if self.shared_identity:
            return paths  # same OS user as the hub: nothing to hand over
        # the hub would have to write into the user's directory as root: never
        raise SpawnFailure("internal_ssl is not supported by OVLocalSpawner with user accounts.")

    def get_args(self) -> list[str]:
        args = super().get_args()
        if self.shared_identity and os.geteuid() == 0 and "--allow-root" not in args:
            args.append("--allow-root")  # jupyter_server refuses root otherwise
        return args

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(getattr(self, "_launch_env", {}))
        return env

    async def start(self) -> Any:
        await self._prepare_identity()
        try:
            with metrics.SPAWN_STEP_DURATION.labels(metrics.STEP_IMAGE).time():
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
        await self._check_reachable(python, choice.image.display_name)
        if choice.tag.notebooks:
            await self._provide_notebooks(choice.tag.notebooks, choice.image.name)
        self.cmd = [python, "-m", "jupyterhub.singleuser"]
        launch_env = {
            "PATH": os.pathsep.join([os.path.join(environment, "bin"), os.environ.get("PATH", "")]),
            "JUPYTERHUB_OV_IMAGE": choice.value,
            # the buckets in the file browser (jupyter-fs), configured from this environment
            "JUPYTER_CONFIG_PATH": JUPYTER_CONFIG_DIR,
        }
        with metrics.SPAWN_STEP_DURATION.labels(metrics.STEP_BUCKET_LOCAL).time():
            launch_env.update(await self._bucket_env())
        self._launch_env = launch_env
        try:
            return await super().start()
        finally:
            self._launch_env = {}  # the secret lives in the child's environment only

    async def _prepare_identity(self) -> None:
        """The account and work directory this start runs with (see the module docstring)."""
        if self.shared_identity:
            self._account = None
            await asyncio.to_thread(os.makedirs, self.home_dir, mode=0o700, exist_ok=True)
            return
        if os.geteuid() != 0:
            raise SpawnFailure(
                "The hub is not running as root, so it cannot run your server under an account"
                " of its own. An administrator must run the hub as root, or choose"
                " c.OVLocalSpawner.shared_identity = True (no isolation between users)."
            )
        try:
            account = await accounts.ensure_account(
                self.system_user, self.home_dir, self.add_user_cmd
            )
            done = await asyncio.to_thread(
                accounts.prepare_home, self.work_root, self.home_dir, account
            )
        except (accounts.AccountError, OSError) as e:
            self.log.error("No account for %s: %s", self.user.name, e)
            raise SpawnFailure(f"Your account could not be set up: {e}") from None
        if done:
            self.log.info("Work directory of %s: %s", self.user.name, done)
        self._account = account

    async def _check_reachable(self, python: str, display_name: str) -> None:
        if self._account is None:
            return
        blocked = await asyncio.to_thread(accounts.unreachable, python, self._account)
        if blocked:
            raise SpawnFailure(
                f"The environment of {display_name} ({python}) is out of reach of the account"
                f" {self._account.name}: {blocked} is closed to it. An administrator must make"
                " the environment's directories traversable (chmod o+x) or move it."
            )

    async def _provide_notebooks(self, source: str, name: str) -> None:
        """A convenience: a failed copy is logged, never a failed start. Made as the user."""
        try:
            if self._account is None:
                made = await asyncio.to_thread(provide_notebooks, source, self.home_dir, name)
            else:
                argv = accounts.python_command(
                    "jupyterhub_ov.spawners.workdir", source, self.home_dir, name
                )
                made = (await accounts.run_as(self._account, argv)).strip() or None
        except (OSError, accounts.AccountError) as e:
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
