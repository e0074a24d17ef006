"""jupyterhub-ov in OpenShift mode as deploy/ runs it: the hub in a pod, notebooks as pods.

The ConfigMap `jupyterhub-ov-hub-config` carries this file (mounted at /etc/jupyterhub). Every
setting an overlay or an admin changes is an environment variable of the hub's container,
from the ConfigMap `jupyterhub-ov-settings` (deploy/base/settings.env, merged by the
overlays) or the optional Secret `jupyterhub-ov-hub`:

- JUPYTERHUB_OV_BIND_IP: where the hub and the proxy listen (default: the pod's IP);
- JUPYTERHUB_OV_HUB_DATA: the hub's volume (its database, cookie secret, passwords, the build
  service's database) — the PVC `jupyterhub-ov-hub-data`;
- JUPYTERHUB_DB_URL (Secret, optional): the hub's database instead of SQLite on that volume;
- JUPYTERHUB_OV_ADMIN_PASSWORD (Secret, optional): the password of the user "admin";
- JUPYTERHUB_OV_STORAGE_CLASS, JUPYTERHUB_OV_STORAGE_CAPACITY: users' PVCs;
- JUPYTERHUB_OV_BUCKET_STORAGE_CLASS: users' ObjectBucketClaims (NooBaa on OpenShift);
- JUPYTERHUB_OV_S3_ENDPOINT: the S3 endpoint notebooks are told (empty: the claim's own);
- JUPYTERHUB_OV_NOTEBOOK_ARGS: extra arguments of jupyterhub-singleuser, space-separated;
- JUPYTERHUB_OV_CULL_IDLE_TIMEOUT: seconds after which an idle server is stopped by
  jupyterhub-idle-culler (default 3600; 0: no culling), JUPYTERHUB_OV_CULL_EVERY: how often
  it looks (default: its own). A culled server keeps its PVC and bucket.

Authentication is the first-use authenticator of the local trial (each name's first login
sets its password; "admin" logs in with the admin password). A production hub replaces it
(OpenShift OAuth, LDAP, ...) in an extra config file: any *.py in /etc/jupyterhub/conf.d is
loaded after this one, in name order.
"""

import os
import sys
from pathlib import Path

from jupyterhub_ov.culling import add_idle_culler, parse_timeout
from jupyterhub_ov.hubconfig import add_platform_service
from jupyterhub_ov.localauth import TrialAuthenticator
from jupyterhub_ov.netenv import network_env

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
env = os.environ

#: the namespace of the hub's pod (the Downward API), where notebooks run and images are built
namespace = env.get("POD_NAMESPACE", "default")
data = Path(env.get("JUPYTERHUB_OV_HUB_DATA", "/srv/jupyterhub"))
#: the pod's own address (the Downward API): where the hub, the proxy and its API listen
bind_ip = env.get("JUPYTERHUB_OV_BIND_IP") or env.get("POD_IP") or "0.0.0.0"

# -- the hub and its proxy in one container -------------------------------------------------
c.JupyterHub.ip = bind_ip
c.JupyterHub.port = 8000
# named in full: with hub_connect_url set, JupyterHub 5 would bind hub_ip's default URL to
# the connect URL's host
c.JupyterHub.hub_bind_url = f"http://{bind_ip}:8081"
# notebooks reach the hub API through the Service jupyterhub-ov-hub (its variables are set by
# the kubelet; its DNS name otherwise)
hub_host = env.get("JUPYTERHUB_OV_HUB_SERVICE_HOST", "jupyterhub-ov-hub")
hub_port = env.get("JUPYTERHUB_OV_HUB_SERVICE_PORT", "8081")
c.JupyterHub.hub_connect_url = f"http://{hub_host}:{hub_port}"
# the proxy's API on the pod's own address (the NetworkPolicy admits no one to its port; it
# wants the hub's token anyway): pods that share a node's loopback never meet there
c.ConfigurableHTTPProxy.api_url = f"http://{bind_ip}:8001"
c.JupyterHub.db_url = env.get("JUPYTERHUB_DB_URL") or f"sqlite:///{data / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(data / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(data / "jupyterhub-proxy.pid")
# notebook pods outlive a hub restart or upgrade
c.JupyterHub.cleanup_servers = False

# -- who logs in --------------------------------------------------------------------------
c.JupyterHub.authenticator_class = TrialAuthenticator
c.TrialAuthenticator.dbm_path = str(data / "passwords.dbm")
c.TrialAuthenticator.admin_password = env.get("JUPYTERHUB_OV_ADMIN_PASSWORD", "")
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"admin"}

# -- notebooks: OVKubeSpawner (menu from ImageStreams, a PVC and a bucket per user) ----------
c.JupyterHub.spawner_class = "ov-kube"
c.OVKubeSpawner.namespace = namespace
c.OVKubeSpawner.cmd = ["jupyterhub-singleuser"]
c.OVKubeSpawner.args = env.get("JUPYTERHUB_OV_NOTEBOOK_ARGS", "").split()
c.OVKubeSpawner.storage_pvc_ensure = True
c.OVKubeSpawner.storage_capacity = env.get("JUPYTERHUB_OV_STORAGE_CAPACITY", "10Gi")
if env.get("JUPYTERHUB_OV_STORAGE_CLASS"):
    c.OVKubeSpawner.storage_class = env["JUPYTERHUB_OV_STORAGE_CLASS"]
c.OVKubeSpawner.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
c.OVKubeSpawner.volume_mounts = [{"name": "home", "mountPath": "/opt/app-root/src"}]
c.OVKubeSpawner.working_dir = "/opt/app-root/src"
c.OVKubeSpawner.environment = {"HOME": "/opt/app-root/src"}
c.OVKubeSpawner.default_url = "/lab"
c.OVKubeSpawner.bucket_storage_class = env.get(
    "JUPYTERHUB_OV_BUCKET_STORAGE_CLASS", "openshift-storage.noobaa.io"
)
if env.get("JUPYTERHUB_OV_S3_ENDPOINT"):
    c.OVKubeSpawner.s3_endpoint_url = env["JUPYTERHUB_OV_S3_ENDPOINT"]
# the NetworkPolicy jupyterhub-ov-notebooks admits only the hub's pod to notebooks
c.OVKubeSpawner.extra_labels = {"app.kubernetes.io/part-of": "jupyterhub-ov"}

# -- the platform service: every feature of the OpenShift mode -----------------------------
# builds publish ImageStream tags into the menu; notebooks keeps OpenVINO notebook images
# built for Notebook resources; modelservers deploys ModelServer resources; customimages
# builds CustomNBImage resources. All in this namespace, each with a Role of deploy/base
# (docs/deploy.md says what each rule is for). It runs in the hub's pod under the hub's
# service account, with its own database on the hub's volume.
FEATURES = ("builds", "notebooks", "modelservers", "customimages")
service_env = network_env(env)
for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
    if env.get(name):
        service_env[name] = env[name]
add_platform_service(
    c,
    # on the pod's own address, as the proxy's API (the NetworkPolicy admits no one to 8011)
    url=f"http://{bind_ip}:8011",
    command=[
        sys.executable,
        "-m",
        "jupyterhub_ov.service",
        "--PlatformService.backend_class=openshift",
        f"--OpenShiftBuildBackend.namespace={namespace}",
        *(f"--PlatformService.features={feature}" for feature in FEATURES),
        # Notebook resources here, no RHODS/ODH operator needed: this hub is the JupyterHub
        # the images are for (and a Role here is all the watch needs)
        f"--OpenVINONotebooks.namespace={namespace}",
        "--OpenVINONotebooks.watch_all_namespaces=False",
        "--OpenVINONotebooks.require_operator=False",
        # ModelServer resources of this namespace only (a Role, not a ClusterRole)
        f"--ModelServers.namespace={namespace}",
        f"--PlatformService.db_url=sqlite:///{data / 'builds.sqlite'}",
        f"--PlatformService.cookie_secret_file={data / 'builder_cookie_secret'}",
    ],
    cwd=str(data),
    environment=service_env,
    admins=c.Authenticator.admin_users,
)

# -- idle culling: on, one hour by default (JUPYTERHUB_OV_CULL_IDLE_TIMEOUT=0 turns it off) --
# jupyterhub-idle-culler as a managed service; a culled server keeps its PVC and bucket
_cull = parse_timeout(
    env.get("JUPYTERHUB_OV_CULL_IDLE_TIMEOUT", "3600"), name="JUPYTERHUB_OV_CULL_IDLE_TIMEOUT"
)
if _cull:
    add_idle_culler(
        c,
        _cull,
        cull_every=parse_timeout(
            env.get("JUPYTERHUB_OV_CULL_EVERY", ""), name="JUPYTERHUB_OV_CULL_EVERY"
        ),
    )

# -- the admin's additions -----------------------------------------------------------------
extra = Path(env.get("JUPYTERHUB_OV_EXTRA_CONFIG_DIR", "/etc/jupyterhub/conf.d"))
if extra.is_dir():
    for path in sorted(extra.glob("*.py")):
        load_subconfig(str(path))  # noqa: F821 (provided by JupyterHub when it loads this file)
