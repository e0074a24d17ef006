"""OVKubeSpawner: KubeSpawner with an ImageStream menu, a PVC and a bucket claim per user.

Orchestration only: the image catalog (`images.kube`), claim handling (`storage.claims`) and
manifests (`storage.manifests`) do the work. The notebook's S3 credentials reach the pod by
reference to the claim's Secret and ConfigMap: this spawner never reads either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from kubernetes_asyncio.client import V1EnvFromSource, V1SecretEnvSource
from kubespawner.clients import shared_client
from traitlets import Bool, Dict, Float, List, TraitError, Unicode, default, validate

from .. import connections, menu, metrics, names
from ..images.kube import KubeImageCatalog
from ..kube.reflectors import shared_reflector
from ..kube.secretmeta import granted_connections
from ..storage import claims, manifests
from ..unlisted import UNLISTED_FIELD, checked_value, parse_unlisted
from .errors import SpawnFailure
from .restricted import RestrictedKubeSpawner


class OVKubeSpawner(RestrictedKubeSpawner):
    """The OpenShift mode's spawner (`c.JupyterHub.spawner_class = "ov-kube"`): the menu
    offers the notebook images of `KubeImageCatalog` (and `sizes`); each user gets a PVC
    (KubeSpawner's `storage_*` options) and an ObjectBucketClaim, whose credentials reach the
    pod by reference to the claim's Secret and ConfigMap (the hub never reads them, the pod
    spec holds no secret). The image is the chosen ImageStream tag's pullable reference
    (`status.tags[].items[0].dockerImageReference`), so images in other namespaces work too.
    A spawn waits for the claim to be Bound, showing progress. Stopping a server never
    deletes its PVC or claim. The notebook gets `S3_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
    `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, `BUCKET_NAME`, `BUCKET_HOST`,
    `BUCKET_PORT`, `BUCKET_REGION`, ODH's `AWS_S3_ENDPOINT` and `AWS_S3_BUCKET`, and
    `JUPYTERHUB_OV_BUCKETS` (JSON list of `{name, endpoint, own}`). The hub's least
    privileges: `deploy/rbac.yaml`. Pods pass the restricted Pod Security Standard and
    OpenShift's restricted-v2 SCC by default: non-root, RuntimeDefault seccomp, every
    capability dropped, no privilege escalation, no service account token, no fixed uid.
    """

    sizes = List(
        Dict(),
        config=True,
        help="""Container sizes offered in the menu: [{"name", "display_name", "default",
        "cpu_guarantee", "cpu_limit", "mem_guarantee", "mem_limit"}]; "name" is required and
        unique, the resource keys are KubeSpawner's options of those names (CPUs as numbers,
        memory as "2G" or bytes) and set on the pod of that size. Without a choice the size
        marked "default" is used, else the first. Checked whenever a spawner is made from
        the configuration: unknown keys and missing or duplicate names are refused. Empty:
        no size choice.""",
    )
    unlisted_image = Dict(
        config=True,
        help="""An "other image" free-text choice in the menu, KubeSpawner 7.1's
        unlisted_choice: {"enabled": true, "display_name", "display_name_in_choices",
        "validation_regex", "validation_message"}. The typed reference is started as the
        image when re.match(validation_regex, value) holds (anchored at the start only: end
        the regex with $), checked on the server at submit and again at start; kept in
        user_options["image--unlisted-choice"]. Empty or not enabled: no such choice, and a
        typed value is refused.""",
    )
    bucket_claim_enabled = Bool(
        True,
        config=True,
        help="""Give each user an ObjectBucketClaim, made on the first spawn and reused, and
        its bucket's variables in the notebook. Off: no claim, no bucket variables.""",
    )
    bucket_claim_prefix = Unicode(
        "jupyter-bucket",
        config=True,
        help="""Claims are named <prefix>-<user slug>: deterministic, so a restarted hub finds
        a user's claim, and never shared by two users. Lowercase letters, digits and single
        hyphens, starting with a letter and not ending in a hyphen; a prefix that breaks this
        or leaves too little room for the slug fails the spawn, saying why.""",
    )
    bucket_name_prefix = Unicode(
        "jupyter",
        config=True,
        help="""The claims' generateBucketName is <prefix>-<short user slug>; the provisioner
        appends a unique suffix (37 characters), so this stays within 26 characters and the
        bucket name within S3's 63. Lowercase letters, digits and single hyphens, starting with
        a letter and not ending in a hyphen; a prefix that breaks this or leaves too little
        room for the slug fails the spawn, saying why.""",
    )
    bucket_storage_class = Unicode(
        manifests.NOOBAA_STORAGE_CLASS,
        config=True,
        help="""storageClassName of the claims: the bucket class of your object storage
        (the default is OpenShift Data Foundation's NooBaa).""",
    )
    bucket_additional_config = Dict(
        config=True,
        help="""additionalConfig of the claims, as the provisioner understands it, e.g.
        {'bucketclass': 'my-class', 'maxSize': '10G'} for NooBaa. Empty: none.""",
    )
    bucket_bind_timeout = Float(
        120.0,
        config=True,
        help="""Seconds a spawn waits for the claim to become Bound (watched, with progress);
        then the spawn fails with a message saying so and removes the claim if it made it.""",
    )
    s3_endpoint_url = Unicode(
        "",
        config=True,
        help="""S3_ENDPOINT_URL for notebooks, e.g. the URL of the s3 route. Empty:
        <s3_endpoint_scheme>://$(BUCKET_HOST):$(BUCKET_PORT) from the claim's ConfigMap
        (expanded by the kubelet, not the hub).""",
    )
    s3_endpoint_scheme = Unicode(
        "http",
        config=True,
        help="""Scheme (http or https) of the S3_ENDPOINT_URL built from the claim when
        s3_endpoint_url is empty.""",
    )
    bucket_grants = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        config=True,
        help="""Buckets a user was granted besides their own, {username: [bucket, ...]},
        listed to the notebook in JUPYTERHUB_OV_BUCKETS. Only listed: the access itself is
        granted by the admin in the object storage (NooBaa).""",
    )
    connections_enabled = Bool(
        False,
        config=True,
        help="""Offer Open Data Hub S3 "connection" Secrets in the menu: Secrets of the
        namespace labelled opendatahub.io/dashboard=true and annotated
        opendatahub.io/connection-type-ref: s3, shown by openshift.io/display-name, to the
        users and groups the admin names in the annotations jupyterhub-ov/connection-users
        and jupyterhub-ov/connection-groups ("a, b"; "*" for everyone; neither: nobody).
        A picked one is injected whole with envFrom (secretRef); one not granted to the user
        is refused at submit and again at start. The hub watches these Secrets' metadata
        only (PartialObjectMetadata) and never reads their data, but it then needs "list"
        and "watch" on Secrets in the namespace (docs/storage.md, "Open Data Hub
        connections").""",
    )
    delete_bucket_claim = Bool(
        False,
        config=True,
        help="Delete the user's claim when the user is deleted (data loss, if the storage "
        "class reclaims with Delete). Stopping a server never deletes it.",
    )

    @default("storage_pvc_ensure")
    def _default_pvc_ensure(self) -> bool:
        """True: a user's PVC is made on the first spawn and reused afterwards."""
        return True

    @default("delete_pvc")
    def _default_delete_pvc(self) -> bool:
        """False: deleting a user keeps their PVC (KubeSpawner's True would lose the data)."""
        return False

    @default("options_form")
    def _default_options_form(self) -> Any:
        """The image menu: images of KubeImageCatalog, and sizes."""

        async def form(spawner: OVKubeSpawner) -> str:
            images = await spawner.available_images()
            admin = bool(getattr(spawner.user, "admin", False))
            errors = (
                spawner.catalog.import_errors(spawner.__class__, spawner.namespace) if admin else []
            )
            offered = await spawner.offered_connections()
            return menu.render_menu(
                images,
                spawner.user_options.get("image"),
                menu.parse_sizes(spawner.sizes),
                spawner.user_options.get("size"),
                unlisted=parse_unlisted(spawner.unlisted_image),
                wanted_unlisted=spawner.user_options.get(UNLISTED_FIELD),
                admin_notes=[f"{key}: {message}" for key, message in errors],
                connections=offered,
                wanted_connections=spawner.user_options.get(connections.OPTION) or (),
            )

        return form

    @validate("unlisted_image")
    def _valid_unlisted(self, proposal: Any) -> dict:
        try:
            parse_unlisted(proposal.value)
        except ValueError as e:
            raise TraitError(f"OVKubeSpawner.unlisted_image: {e}") from e
        return dict(proposal.value)

    @validate("sizes")
    def _valid_sizes(self, proposal: Any) -> list:
        try:
            menu.parse_sizes(proposal.value)
        except ValueError as e:
            raise TraitError(f"OVKubeSpawner.sizes: {e}") from e
        return list(proposal.value)

    @property
    def catalog(self) -> KubeImageCatalog:
        return KubeImageCatalog(parent=self)

    @property
    def bucket_claim_name(self) -> str:
        return names.object_name(self.user.name, self.bucket_claim_prefix)

    async def available_images(self) -> list:
        catalog = self.catalog
        await catalog.start(self.__class__, self.namespace)
        return catalog.images(self.__class__, self.namespace)

    async def offered_connections(self) -> list[connections.Connection]:
        """The connection Secrets this user may pick (none unless connections_enabled)."""
        return await granted_connections(self) if self.connections_enabled else []

    async def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        options = menu.options_from_form(formdata, parse_unlisted(self.unlisted_image))
        if options.get(connections.OPTION):  # a forged name is refused here, and at start
            connections.env_from(options[connections.OPTION], await self.offered_connections())
        return options

    async def get_pod_manifest(self) -> Any:
        """KubeSpawner's pod, with the picked connections' Secrets as envFrom; their ODH keys
        replace the own bucket's variables of those names (env would win over envFrom)."""
        pod = await super().get_pod_manifest()
        picked = getattr(self, "_ov_env_from", [])
        if picked:
            container = pod.spec.containers[0]
            refs = [V1EnvFromSource(secret_ref=V1SecretEnvSource(name=n)) for n in picked]
            container.env_from = list(container.env_from or []) + refs
            container.env = [e for e in container.env or [] if e.name not in connections.KEYS]
        return pod

    # -- progress: our steps first, then KubeSpawner's pod events -------------------------

    def _progress(self, message: str, progress: int) -> None:
        elapsed = time.monotonic() - self._ov_started
        self._ov_events.append({"progress": progress, "message": f"{message} ({elapsed:.1f} s)"})
        self._ov_changed.set()

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:
            events = getattr(self, "_ov_events", [])
            while sent < len(events):
                yield events[sent]
                sent += 1
            if getattr(self, "_ov_prepared", True):
                break
            self._ov_changed.clear()
            try:
                await asyncio.wait_for(self._ov_changed.wait(), 1)
            except TimeoutError:
                pass
        async for event in super().progress():
            yield event

    # -- start ----------------------------------------------------------------------------

    async def _start(self) -> Any:
        self._ov_started = time.monotonic()
        self._ov_events: list[dict[str, Any]] = []
        self._ov_changed = asyncio.Event()
        self._ov_prepared = False
        try:
            await self._prepare()
        finally:
            self._ov_prepared = True
            self._ov_changed.set()
        return await super()._start()

    async def _prepare(self) -> None:
        typed = self.user_options.get(UNLISTED_FIELD)
        if typed:  # user_options may come from the REST API, not the form: check again
            try:
                self.image = checked_value(parse_unlisted(self.unlisted_image), typed)
            except ValueError as e:
                raise SpawnFailure(str(e)) from None
            self._add_environment({"JUPYTERHUB_OV_IMAGE": self.image})
            self._progress(f"Image {self.image} (entered by hand)", 5)
        else:
            await self._choose_image()
        size = menu.resolve_size(menu.parse_sizes(self.sizes), self.user_options.get("size"))
        for key, value in (size.resources if size else {}).items():
            setattr(self, key, value)
        await self._choose_connections()
        if self.bucket_claim_enabled:
            with metrics.SPAWN_STEP_DURATION.labels(metrics.STEP_BUCKET_CLAIM).time():
                await self._ensure_bucket()

    async def _choose_image(self) -> None:
        try:
            with metrics.SPAWN_STEP_DURATION.labels(metrics.STEP_IMAGE).time():
                choice = menu.resolve_choice(
                    await self.available_images(), self.user_options.get("image")
                )
        except menu.NoImageAvailable as e:
            raise SpawnFailure(str(e)) from None
        if choice.note:
            self.log.warning("%s: %s", self._log_name, choice.note)
            self._progress(choice.note, 5)
        self.image = choice.tag.reference
        self._add_environment({"JUPYTERHUB_OV_IMAGE": choice.value})
        self._progress(f"Image {choice.image.display_name} ({choice.tag.name})", 5)

    async def _choose_connections(self) -> None:
        self._ov_env_from: list[str] = []
        try:
            picked = connections.requested(self.user_options.get(connections.OPTION))
            if picked:
                entries = connections.env_from(picked, await self.offered_connections())
                self._ov_env_from = [e["secretRef"]["name"] for e in entries]
        except ValueError as e:
            raise SpawnFailure(str(e)) from None
        if self._ov_env_from:
            self._progress(f"Connections {', '.join(self._ov_env_from)}", 8)

    async def _make_create_pvc_request(self, pvc: Any, request_timeout: float) -> Any:
        """KubeSpawner's PVC creation (first spawn only), timed."""
        with metrics.SPAWN_STEP_DURATION.labels(metrics.STEP_PVC).time():
            return await super()._make_create_pvc_request(pvc, request_timeout)

    async def _ensure_bucket(self) -> None:
        api = shared_client("CustomObjectsApi")
        name = self.bucket_claim_name
        body = manifests.bucket_claim(
            name=name,
            namespace=self.namespace,
            generate_bucket_name=names.generate_bucket_name(
                self.user.name, self.bucket_name_prefix
            ),
            storage_class=self.bucket_storage_class,
            additional_config=self.bucket_additional_config,
            labels=self._build_common_labels({}),
            annotations=self._build_common_annotations({}),
        )
        timeout = self.k8s_api_request_retry_timeout
        _, created = await claims.ensure_claim(api, body, timeout=timeout, log=self.log)
        self._progress(f"Bucket claim {name} {'created' if created else 'found'}", 10)
        reflector = await shared_reflector(
            self.__class__, claims.ClaimReflector, self.namespace, parent=self
        )
        try:
            await claims.wait_bound(
                reflector, self.namespace, name, timeout=self.bucket_bind_timeout
            )
        except claims.ClaimNotBound as e:
            metrics.BUCKET_CLAIMS.labels(_made(created), "not_bound").inc()
            if created:  # leave nothing half-made: a claim that never bound holds no data
                await claims.delete_claim(api, self.namespace, name, timeout=timeout, log=self.log)
            raise SpawnFailure(
                f"Your storage bucket is not ready: {e}. Please try again later,"
                " or ask an administrator to check the object storage."
            ) from None
        metrics.BUCKET_CLAIMS.labels(_made(created), "bound").inc()
        self._progress(f"Bucket claim {name} bound", 20)
        granted = [{"name": b} for b in self.bucket_grants.get(self.user.name, [])]
        self._add_environment(
            manifests.bucket_environment(
                name,
                endpoint_url=self.s3_endpoint_url,
                scheme=self.s3_endpoint_scheme,
                granted=granted,
            )
        )

    def _add_environment(self, extra: Mapping[str, Any]) -> None:
        """KubeSpawner expands ``{...}`` templates in environment values: escape ours."""
        current: dict[str, Any] = dict(self.environment)  # type: ignore[has-type]
        for key, value in extra.items():
            if isinstance(value, str):
                value = value.replace("{", "{{").replace("}", "}}")
            current[key] = value
        self.environment = current

    async def delete_forever(self) -> None:
        await super().delete_forever()
        if self.bucket_claim_enabled and self.delete_bucket_claim:
            await claims.delete_claim(
                shared_client("CustomObjectsApi"),
                self.namespace,
                self.bucket_claim_name,
                timeout=self.k8s_api_request_retry_timeout,
                log=self.log,
            )


def _made(created: bool) -> str:
    """The ``claim`` label of `metrics.BUCKET_CLAIMS`."""
    return "created" if created else "found"
