"""The platform service: one JupyterHub-managed service (traitlets `Application`) that
hosts features (image builds, OpenVINO notebook images, ...; see `feature`).

    jupyterhub-ov-service [--config FILE] [--PlatformService.backend_class=local] ...
    jupyterhub-ov-service --generate-config      # writes jupyterhub_ov_service_config.py

The hub starts it (``c.JupyterHub.services``) with ``JUPYTERHUB_SERVICE_URL`` (where to
listen), ``JUPYTERHUB_SERVICE_PREFIX`` (its URL path) and the OAuth settings in the
environment. Start: database → backend → build manager (which resumes or fails the builds
that were in flight) → each feature in ``features`` order → HTTP. On SIGTERM or SIGINT
everything stops in the reverse order (running builds stay recorded as they are, for the
next start to pick up). One exit stack holds what has started, so a component that fails
to start unwinds the ones before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubOAuth
from tornado.httpserver import HTTPServer
from tornado.web import RequestHandler
from traitlets import Bool, Float, Int, List, TraitError, Type, Unicode, default, validate
from traitlets.config import Application

from .. import __version__, logsafety
from ..builds.backends.base import BuildBackend
from ..builds.manager import BuildManager
from ..builds.model.spec import SpecPolicy
from ..builds.store import BuildStore
from ..database import Database
from . import listening
from .feature import Feature, Host, feature_class
from .web import make_application
from .web.base import ServiceContext
from .web.pages import templates

#: short names of the backends for ``backend_class``
BACKENDS = {
    "local": "jupyterhub_ov.builds.backends.local.LocalBuildBackend",
    "openshift": "jupyterhub_ov.builds.backends.openshift.OpenShiftBuildBackend",
    "tekton": "jupyterhub_ov.builds.backends.tekton.TektonBuildBackend",
}


def _slashes(path: str) -> str:
    return "/" + path.strip("/") + "/"


class BackendClass(Type):
    """A `Type` trait of `BuildBackend` that also takes the short names of `BACKENDS`.

    The class is imported when the value is first used, not when the service object is made:
    ``--generate-config`` works even where a backend's dependencies are missing.
    """

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str):
            value = BACKENDS.get(value, value)
        return super().validate(obj, value)

    def _resolve_classes(self) -> None:
        if isinstance(self.klass, str):
            self.klass = self._resolve_string(self.klass)


class PlatformService(Application):
    """The platform service (``jupyterhub-ov-service``, ``python -m jupyterhub_ov.service``):
    a JupyterHub-managed service that builds notebook images and publishes them where the
    spawner menu finds them, and hosts the features of `features` (the OpenVINO notebook
    image, ...). What it does, its REST API, its scopes and how the hub starts it:
    [docs/builder.md](builder.md).

    Its options, and those of its backend, features and controllers (`LocalBuildBackend`,
    `OpenShiftBuildBackend`, `OpenVINONotebooks`, `NotebookController`, `NotebookReconciler`),
    are set in its config file (`config_file`, `--config FILE`) or on its command line
    (`--PlatformService.<option>=`), not in the hub's `jupyterhub_config.py`. What an
    `ImportImage` request's `fromImage` names follows the backend
    (`BuildBackend.import_source`): an environment's path for `local`, an image reference for
    `openshift`. The hub token check is JupyterHub's `HubOAuth` (`c.HubOAuth.cache_max_age`,
    default 300 seconds, is how long it caches an identity).
    """

    name = "jupyterhub-ov-service"
    version = __version__
    description = """The jupyterhub-ov platform service (a JupyterHub service): image builds,
    the OpenVINO notebook image, and the other features of `features`."""
    examples = """
    jupyterhub-ov-service --generate-config
    jupyterhub-ov-service --config /etc/jupyterhub/service_config.py
    jupyterhub-ov-service --PlatformService.backend_class=openshift
    """

    aliases = {
        "config": "PlatformService.config_file",
        "backend": "PlatformService.backend_class",
        "db-url": "PlatformService.db_url",
        "log-level": "Application.log_level",
    }
    flags = {
        "generate-config": (
            {"PlatformService": {"generate_config": True}},
            "Write the default configuration file (config_file) and exit.",
        ),
    }

    config_file = Unicode(
        "jupyterhub_ov_service_config.py",
        help="""Configuration file loaded at start if it exists (a relative path is taken from
        the working directory), and the file --generate-config writes. Options on the command
        line win over the file's.""",
    ).tag(config=True)

    generate_config = Bool(False, help="Write config_file with every option, then exit.").tag(
        config=True
    )

    backend_class = BackendClass(
        "local",
        klass=BuildBackend,
        help="""The build backend: "local" (uv environments in a local catalog directory,
        jupyterhub_ov.builds.backends.local.LocalBuildBackend), "openshift" (OpenShift
        builds into ImageStreams, jupyterhub_ov.builds.backends.openshift.OpenShiftBuildBackend),
        "tekton" (the same with Tekton PipelineRuns instead of BuildConfigs,
        jupyterhub_ov.builds.backends.tekton.TektonBuildBackend) or the import string of
        another BuildBackend subclass. The class is imported when the service starts, not when
        the configuration is loaded: --generate-config works where a backend's dependencies
        are missing.""",
    ).tag(config=True)

    db_url = Unicode(
        "sqlite:///jupyterhub-ov-builds.sqlite",
        help="""SQLAlchemy URL of the build records and their logs (the default: a SQLite file in
        the working directory). In OpenShift mode use one that outlives the pod: a file on a
        persistent volume or a PostgreSQL URL.""",
    ).tag(config=True)

    max_concurrent_builds = Int(
        2,
        help="Builds running at once (at least 1); further builds wait in Preparing for a slot.",
    ).tag(config=True)

    build_timeout = Float(
        3600.0,
        help="""Seconds after which a build that has not ended is stopped and ends in Failure
        (with a message saying it timed out).""",
    ).tag(config=True)

    allow_package_urls = Bool(
        False,
        help="""Whether PackageList entries may be direct URLs ('pkg @ https://...') instead of
        requirements resolved from the package index. Off: a request with one is refused (422)
        before anything runs. The local backend's allow_urls is the same rule for a
        repository's requirements.txt.""",
    ).tag(config=True)

    git_schemes = List(
        Unicode(),
        ["https"],
        help="""URL schemes a GitRepository request's repositoryUrl may use; another scheme is
        refused (422). Keep the backend's git_schemes (what git itself may use) to the same.""",
    ).tag(config=True)

    git_hosts = List(
        Unicode(),
        ["github.com", "gitlab.com"],
        help="""Hosts a GitRepository request's repositoryUrl may name (exact host names);
        another host is refused (422). Empty: any host.""",
    ).tag(config=True)

    max_body_size = Int(
        64 * 1024,
        help="""Largest request body in bytes, on every route: a larger declared one is
        refused with 413 before it is read, a chunked one once it passes the limit. Also the
        HTTP server's own limit. At least 1.""",
    ).tag(config=True)

    features = List(
        Unicode(),
        ["builds", "notebooks", "modelservers", "customimages"],
        help="""The features the service runs, in the panel's order: short names of the
        jupyterhub_ov.service_features entry points ("builds": image builds in the panel and
        the REST API; "notebooks": the OpenVINO notebook image, c.OpenVINONotebooks;
        "modelservers": OpenVINO Model Servers from the panel and the REST API — local
        processes with the local backend, the cluster's ModelServer resources with a cluster
        backend, c.ModelServers; "customimages": the cluster's CustomNBImage resources
        built, with a cluster backend, c.CustomImages) or import strings of Feature
        subclasses.
        The build engine runs whatever is listed.""",
    ).tag(config=True)

    keepalive_interval = Float(
        15.0,
        help="""Seconds of quiet after which a live event stream (api/builds/{id}/events) sends a
        keep-alive comment, so proxies do not close it.""",
    ).tag(config=True)

    bind_url = Unicode(
        help="""Where the service listens, as a URL (http://127.0.0.1:8011). The hub sets
        $JUPYTERHUB_SERVICE_URL from the service's "url" in c.JupyterHub.services."""
    ).tag(config=True)

    service_prefix = Unicode(
        help="""URL path the service answers under (/services/<name>/; slashes are added at
        both ends). The hub sets $JUPYTERHUB_SERVICE_PREFIX from the service's name."""
    ).tag(config=True)

    cookie_secret_file = Unicode(
        "",
        help="""File holding the secret that signs the service's login cookies (created,
        mode 0600, if missing). Empty: a new secret at every start, so browsers log in again
        (through the hub, without a prompt) after a restart.""",
    ).tag(config=True)

    @default("bind_url")
    def _bind_url_default(self) -> str:
        """$JUPYTERHUB_SERVICE_URL, else http://127.0.0.1:8011."""
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8011")

    @default("service_prefix")
    def _prefix_default(self) -> str:
        """$JUPYTERHUB_SERVICE_PREFIX, else /services/image-builder/."""
        return _slashes(os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/image-builder/"))

    @validate("service_prefix")
    def _prefix_slashes(self, proposal: Any) -> str:
        return _slashes(str(proposal.value))

    @validate("max_body_size", "max_concurrent_builds")
    def _positive(self, proposal: Any) -> int:
        if proposal.value < 1:
            raise TraitError(f"{proposal.trait.name} must be at least 1")
        return int(proposal.value)

    @default("log_format")
    def _log_format_default(self) -> str:
        """JupyterHub's log line layout, with milliseconds and the logger's name."""
        return "[%(levelname)1.1s %(asctime)s.%(msecs).03d %(name)s] %(message)s"

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        if self.generate_config:
            return
        if os.path.isfile(self.config_file):
            self.load_config_file(self.config_file)
            self.update_config(self.cli_config)  # the command line wins over the file
        tornado_log = logging.getLogger("tornado")
        tornado_log.handlers = list(self.log.handlers)
        tornado_log.setLevel(self.log.getEffectiveLevel())
        tornado_log.propagate = False
        logsafety.clamp_sdk_loggers()  # botocore at DEBUG logs IAM's answers: secret keys

    def start(self) -> None:
        if self.generate_config:
            self.write_default_config()
            return
        # what it publishes (environments, their notebooks) every user's account must read,
        # whatever umask the hub was started with; its private state has a private directory
        os.umask(0o022)
        asyncio.run(self.serve())

    def write_default_config(self) -> None:
        Path(self.config_file).write_text(self.generate_config_file())
        print(f"Wrote {self.config_file}")

    # -- running -------------------------------------------------------------------------

    def make_features(self) -> list[Feature]:
        """One instance of each of ``features`` (configured by ``c.<ItsClass>``)."""
        made: list[Feature] = []
        for name in self.features:
            try:
                cls = feature_class(name)
            except ValueError as e:
                raise TraitError(f"PlatformService.features: {e}") from None
            if any(f.name == cls.name for f in made):
                raise TraitError(f"PlatformService.features: {cls.name!r} is listed twice")
            made.append(cls(parent=self, log=self.log))
        return made

    def make_manager(self, database: Database | None = None) -> BuildManager:
        backend: BuildBackend = self.backend_class(parent=self, log=self.log)
        policy = SpecPolicy(
            allow_urls=self.allow_package_urls,
            git_schemes=tuple(self.git_schemes),
            git_hosts=tuple(self.git_hosts),
            import_source=backend.import_source,
        )
        return BuildManager(
            store=BuildStore(database or self.db_url),
            backend=backend,
            policy=policy,
            max_concurrent=self.max_concurrent_builds,
            timeout=self.build_timeout,
            log=self.log,
        )

    def cookie_secret(self) -> bytes:
        if not self.cookie_secret_file:
            return secrets.token_bytes(32)
        path = Path(self.cookie_secret_file)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def make_context(self, manager: BuildManager, features: list[Feature]) -> ServiceContext:
        hub_auth = HubOAuth(parent=self, base_url=self.service_prefix)
        return ServiceContext(
            manager=manager,
            hub_auth=hub_auth,
            prefix=self.service_prefix,
            hub_prefix=hub_auth.hub_prefix,
            max_body_size=self.max_body_size,
            keepalive_interval=self.keepalive_interval,
            log=self.log,
            templates=templates(features),
            features=features,
        )

    def _log_request(self, handler: RequestHandler) -> None:
        status = handler.get_status()
        level = logging.DEBUG if status < 400 else logging.INFO
        if status >= 500:
            level = logging.ERROR
        ms = 1000.0 * handler.request.request_time()
        # the path only: a query may carry an XSRF token
        self.log.log(
            level, "%d %s %s %.1fms", status, handler.request.method, handler.request.path, ms
        )

    async def serve(self) -> None:
        """Start every component, serve until SIGTERM/SIGINT, stop them in reverse order.

        One exit stack holds what has started: a component that fails to start (a busy
        port, an unreachable cluster) unwinds the ones before it, and so does a stop."""
        async with contextlib.AsyncExitStack() as stack:
            manager, features = await self._start_components(stack)
            context = self.make_context(manager, features)
            web_app = make_application(
                context,
                version=__version__,
                cookie_secret=self.cookie_secret(),
                log_function=self._log_request,
            )
            url = urlsplit(self.bind_url)
            # the handlers refuse larger bodies from their headers (and raise the limit only
            # to drop a refused body); this is the backstop for any that would not
            server = HTTPServer(web_app, xheaders=True, max_body_size=self.max_body_size)
            early = listening.take(self.bind_url)
            if early:
                server.add_sockets([early])
            else:
                server.listen(url.port or 80, url.hostname or "127.0.0.1")
            stack.callback(server.stop)
            self.log.info(
                "Platform service (%s backend; %s) at %s%s",
                manager.backend.kind,
                ", ".join(f.name for f in features) or "no features",
                self.bind_url.rstrip("/"),
                self.service_prefix,
            )
            stopping = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stopping.set)
            await stopping.wait()
            self.log.info("Stopping: builds in flight stay recorded for the next start")

    async def _start_components(
        self, stack: contextlib.AsyncExitStack
    ) -> tuple[BuildManager, list[Feature]]:
        """Database, backend, manager, then each feature in order; each one's stop is on
        ``stack`` as soon as it has started."""
        features = self.make_features()  # before the database: their tables are declared
        database = Database(self.db_url)
        await database.start()
        stack.push_async_callback(database.close)
        manager = self.make_manager(database)
        await manager.backend.start()
        stack.push_async_callback(manager.backend.stop)
        await manager.start()
        stack.push_async_callback(manager.stop)
        host = Host(manager=manager, database=database, stack=stack, log=self.log)
        for feature in features:
            await feature.start(host)
        return manager, features


main = PlatformService.launch_instance
