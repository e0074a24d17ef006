"""The Prometheus metrics of jupyterhub-ov (every one is described in docs/metrics.md).

Two sets, for two processes:

- the hub's (spawn preparation, bucket claims, image catalog, watches) are registered on
  prometheus-client's default registry, the one JupyterHub serves at ``/hub/metrics``, so
  they appear there next to JupyterHub's own;
- the platform service's (builds, queue, model servers) are registered on `SERVICE_REGISTRY`,
  which the service serves at ``/services/<name>/metrics`` (scope ``read:metrics``).

Labels take only values from short fixed sets (steps, build types, phases, states, resource
kinds): never a user name, a build id or anything a user typed, so no series is unbounded
and no metric tells who did what.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

# -- the hub -------------------------------------------------------------------------------

#: seconds buckets for spawn preparation: a cached catalog answers in milliseconds, a new
#: claim binds in seconds, a slow provisioner takes up to `bucket_bind_timeout` (2 min)
SPAWN_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

SPAWN_STEP_DURATION = Histogram(
    "jupyterhub_ov_spawn_step_duration_seconds",
    "Seconds each step of a spawn's preparation took, before the server's pod is made",
    ["step"],
    buckets=SPAWN_BUCKETS,
    registry=REGISTRY,
)
#: the values of SPAWN_STEP_DURATION's ``step``
STEP_IMAGE = "image_resolution"
STEP_PVC = "pvc"
STEP_BUCKET_CLAIM = "bucket_claim_wait"
#: local mode: making (or finding) the user's bucket and keys in the S3 service
STEP_BUCKET_LOCAL = "bucket_provisioning"

BUCKET_CLAIMS = Counter(
    "jupyterhub_ov_bucket_claims",
    "Bucket claims (ObjectBucketClaims) spawns waited for, by whether the spawn made the"
    " claim or found it, and whether it became Bound in time",
    ["claim", "outcome"],
    registry=REGISTRY,
)

CATALOG_IMAGES = Gauge(
    "jupyterhub_ov_image_catalog_images",
    "Notebook images the spawner's menu offers, as last read from the catalog",
    ["catalog"],
    registry=REGISTRY,
)

WATCH_RESTARTS = Counter(
    "jupyterhub_ov_watch_restarts",
    "Watches of the hub's reflectors that gave up after failed retries; each is started"
    " afresh on next use",
    ["resource"],
    registry=REGISTRY,
)

# -- the platform service --------------------------------------------------------------------

SERVICE_REGISTRY = CollectorRegistry(auto_describe=True)

#: seconds buckets for build phases: resolving takes seconds, building minutes
BUILD_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

BUILDS = Counter(
    "jupyterhub_ov_builds",
    "Image builds that ended since the service started, by build type and outcome",
    ["type", "outcome"],
    registry=SERVICE_REGISTRY,
)

BUILD_PHASE_DURATION = Histogram(
    "jupyterhub_ov_build_phase_duration_seconds",
    "Seconds builds spent in each phase, observed when the phase ends",
    ["type", "phase"],
    buckets=BUILD_BUCKETS,
    registry=SERVICE_REGISTRY,
)

BUILD_QUEUE = Gauge(
    "jupyterhub_ov_build_queue_length",
    "Builds waiting for a build slot (Preparing, not yet resolving)",
    registry=SERVICE_REGISTRY,
)

BUILDS_RUNNING = Gauge(
    "jupyterhub_ov_builds_running",
    "Builds in flight (submitted, not yet ended), waiting or not",
    registry=SERVICE_REGISTRY,
)

MODEL_SERVERS = Gauge(
    "jupyterhub_ov_model_servers",
    "Model servers by state, as the service reads them when scraped",
    ["state"],
    registry=SERVICE_REGISTRY,
)
