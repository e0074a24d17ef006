"""jupyterhub-ov, the embedded default: local mode on one machine, no cluster needed.

Runs as shipped (`make run`, or `jupyterhub -f jupyterhub_config.py`):
- log in at http://127.0.0.1:8000 with any username: the first login under a name sets its
  password, later ones must match it; the user "admin" is an admin and logs in with the admin
  password ($JUPYTERHUB_OV_ADMIN_PASSWORD, or made at random on the first start and kept in
  <data>/hub/admin-password);
- each user's server runs as an OS account of their own (jupyter-<name>, made on the first
  start) when the hub runs as root; otherwise JUPYTERHUB_OV_SHARED_IDENTITY=1 must say that
  all servers may run as the hub's own user, unisolated (README: "Users and isolation");
- each user gets a work directory under <data>/users, a menu of the Python environments in
  <data>/environments (plus the hub's own environment) and an S3 bucket with their own keys;
- the hub's own state (databases, cookie secrets, S3 admin key, admin password) lives in
  <data>/hub, readable by the hub's OS user only;
- the image build service (Services menu → image-builder) builds new environments into
  <data>/environments with uv: admins start, cancel, retry and delete builds, every user sees
  them and their logs;
- idle servers keep running: JUPYTERHUB_OV_CULL_IDLE_TIMEOUT=<seconds> stops those idle that
  long (jupyterhub-idle-culler; their work directory and bucket stay);
- the S3 service is an embedded, in-memory moto server with IAM enforced: a throw-away for
  trying things out, emptied at every restart. Set JUPYTERHUB_OV_S3_ENDPOINT (and
  c.LocalBucketProvisioner credentials) to use a real S3 service instead.

A real deployment changes configuration only: another authenticator, a real S3 endpoint,
another data directory. Environment variables read here are all optional.
"""

import logging
import os
import sys
from pathlib import Path

from jupyterhub_ov import lifeline
from jupyterhub_ov.culling import add_idle_culler, parse_timeout
from jupyterhub_ov.hubconfig import add_platform_service
from jupyterhub_ov.localauth import TrialAuthenticator
from jupyterhub_ov.localdata import DataDir
from jupyterhub_ov.netenv import network_env
from jupyterhub_ov.spawners.local import warn_shared_identity

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
log = logging.getLogger("JupyterHub")

here = Path(__file__).resolve().parent
data = DataDir(Path(os.environ.get("JUPYTERHUB_OV_DATA_DIR", here / "data")).resolve())
for moved in data.prepare():
    log.warning("Moved %s into %s (the hub's private state)", moved, data.state)
state = data.state  # readable by the hub's OS user only: every secret lives here

# -- who runs users' servers: an OS account per user, unless the admin chose otherwise ------
# As root (the default): each user's server runs as a system account of its own, jupyter-<name>.
# JUPYTERHUB_OV_SHARED_IDENTITY=1: every server runs as the hub's own OS user, with NO
# isolation between users (the only way when the hub is not root: OpenShift, a laptop).
shared_identity = os.environ.get("JUPYTERHUB_OV_SHARED_IDENTITY", "") == "1"
if not shared_identity and os.geteuid() != 0:
    sys.exit(
        "jupyterhub-ov: the hub is not running as root, so it cannot give each user an OS"
        " account of their own. Run it as root, or set JUPYTERHUB_OV_SHARED_IDENTITY=1 to run"
        " every user's server as your own user with no isolation between users (fine when you"
        " are the only user). See the README, 'Users and isolation'."
    )
if shared_identity:
    warn_shared_identity(log)
c.OVLocalSpawner.shared_identity = shared_identity
c.OVLocalSpawner.system_user_prefix = os.environ.get("JUPYTERHUB_OV_USER_PREFIX", "jupyter-")

# -- the hub ---------------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("JUPYTERHUB_OV_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
local_proxy = here / "node_modules" / ".bin" / "configurable-http-proxy"
if local_proxy.exists():  # installed by `make` from package.json
    c.ConfigurableHTTPProxy.command = [str(local_proxy)]

# -- who may log in: any name, whose first login sets its password (a local trial) ----------
# (The Littlest JupyterHub's way; a real deployment uses a real authenticator, see the README)
c.JupyterHub.authenticator_class = TrialAuthenticator
c.TrialAuthenticator.dbm_path = str(state / "passwords.dbm")
# the admin password is never a documented default: random on first start, kept in
# <data>/hub/admin-password (readable by the hub's OS user only)
c.TrialAuthenticator.admin_password = os.environ.get("JUPYTERHUB_OV_ADMIN_PASSWORD") or data.secret(
    "admin-password", nbytes=30
)
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"admin"}

# -- the local spawner: work directories and the environment menu ------------------------
c.JupyterHub.spawner_class = "ov-local"
c.OVLocalSpawner.work_root = str(data.users)
environments = data.environments
c.LocalImageCatalog.catalog_dir = str(environments)
c.Spawner.default_url = "/lab"

# -- a bucket per user ---------------------------------------------------------------------
services: list[dict] = []
s3_endpoint = os.environ.get("JUPYTERHUB_OV_S3_ENDPOINT")
#: the platform service's options for the buckets: local model servers read a user's bucket
#: with an identity of their own, which the service makes with the same admin credentials
service_s3: list[str] = []
if s3_endpoint:
    c.LocalBucketProvisioner.endpoint_url = s3_endpoint
    service_s3.append(f"--LocalBucketProvisioner.endpoint_url={s3_endpoint}")
else:
    s3_port = os.environ.get("JUPYTERHUB_OV_S3_PORT", "9000")
    credentials = state / "s3-admin.json"
    credentials.unlink(missing_ok=True)  # a stale file from a killed run holds dead keys
    services.append(
        {
            "name": "embedded-s3",
            # ends with the hub (jupyterhub_ov.lifeline): a killed hub's server would keep
            # the port and keys its restarted successor does not have
            "command": lifeline.wrap(
                [
                    sys.executable,
                    "-m",
                    "jupyterhub_ov.storage.embedded",
                    "--port",
                    s3_port,
                    "--credentials-file",
                    str(credentials),
                ]
            ),
        }
    )
    c.LocalBucketProvisioner.credentials_file = str(credentials)
    service_s3.append(f"--LocalBucketProvisioner.credentials_file={credentials}")

# -- the image build service (Services menu), building into the environment catalog ---------
# JUPYTERHUB_OV_BUILDER_BACKEND: "local" (uv environments, the default) or the import string
# of another BuildBackend.
builder_backend = os.environ.get("JUPYTERHUB_OV_BUILDER_BACKEND", "local")
# local model servers: <claims|configmaps>/<name>/ stand for volume claims and config maps
model_volumes = state / "model-volumes"
model_volumes.mkdir(exist_ok=True)
c.JupyterHub.services = services
# the service, its scopes and roles (jupyterhub_ov.hubconfig: users read builds and model
# servers, the hub's admins change them)
add_platform_service(
    c,
    url=os.environ.get("JUPYTERHUB_OV_BUILDER_URL", "http://127.0.0.1:8011"),
    command=[
        sys.executable,
        "-m",
        "jupyterhub_ov.service",
        f"--PlatformService.backend_class={builder_backend}",
        f"--PlatformService.db_url=sqlite:///{state / 'builds.sqlite'}",
        f"--PlatformService.cookie_secret_file={state / 'builder_cookie_secret'}",
        f"--LocalBuildBackend.catalog_dir={environments}",
        f"--LocalBuildBackend.base_environment={sys.prefix}",  # the hub's own Python
        # requests never build on what users or the hub keep there (environments/ is fine)
        f"--LocalBuildBackend.refused_roots={data.root}",
        # local model servers: the S3 admin identity (to make each server's own), and
        # the directory standing for volume claims and config maps
        *service_s3,
        f"--ModelServers.local_volumes_dir={model_volumes}",
    ],
    cwd=str(state),
    # the hub's CA bundle, proxy and index settings, or uv cannot reach the index behind a
    # corporate CA/proxy
    environment=network_env(os.environ),
    admins=c.Authenticator.admin_users,
)

# -- idle culling: off unless JUPYTERHUB_OV_CULL_IDLE_TIMEOUT gives seconds -----------------
# (a stopped server keeps its work directory and bucket; JUPYTERHUB_OV_CULL_EVERY: how often
# the culler looks, in seconds, by default a tenth of the timeout)
cull_timeout = parse_timeout(
    os.environ.get("JUPYTERHUB_OV_CULL_IDLE_TIMEOUT", ""), name="JUPYTERHUB_OV_CULL_IDLE_TIMEOUT"
)
if cull_timeout:
    cull_every = parse_timeout(
        os.environ.get("JUPYTERHUB_OV_CULL_EVERY", ""), name="JUPYTERHUB_OV_CULL_EVERY"
    )
    add_idle_culler(c, cull_timeout, cull_every=cull_every)
