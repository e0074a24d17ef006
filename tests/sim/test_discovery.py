"""Discovery documents, read through the real generated client (which validates their shapes)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.kinds import custom as custom_kind
from jupyterhub_ov_sim.kubeconfig import write_kubeconfig
from kubernetes_asyncio import client, config


async def test_version_has_every_field(api_client: client.ApiClient) -> None:
    info = await client.VersionApi(api_client).get_code()
    assert (info.major, info.minor) == ("1", "31")
    for field in ("git_version", "git_commit", "git_tree_state", "build_date", "go_version"):
        assert getattr(info, field), field
    assert info.compiler == "gc"
    assert info.platform == "linux/amd64"


async def test_core_api_versions(api_client: client.ApiClient) -> None:
    versions = await client.CoreApi(api_client).get_api_versions()
    assert versions.versions == ["v1"]


async def test_core_resources_with_status_subresources(core: client.CoreV1Api) -> None:
    resources = {r.name: r for r in (await core.get_api_resources()).resources}
    pods = resources["pods"]
    assert (pods.kind, pods.singular_name, pods.namespaced) == ("Pod", "pod", True)
    assert set(pods.verbs) >= {"create", "get", "list", "watch", "patch", "update", "delete"}
    assert "po" in pods.short_names
    assert resources["pods/status"].verbs == ["get", "patch", "update"]
    assert resources["namespaces"].namespaced is False
    assert "deletecollection" not in resources["namespaces"].verbs
    assert "configmaps/status" not in resources
    for name in ("persistentvolumeclaims", "secrets", "services", "events", "serviceaccounts"):
        assert name in resources


async def test_groups_list_every_custom_group(api_client: client.ApiClient) -> None:
    groups = {g.name: g for g in (await client.ApisApi(api_client).get_api_versions()).groups}
    expected = {
        "apps": "apps/v1",
        "image.openshift.io": "image.openshift.io/v1",
        "build.openshift.io": "build.openshift.io/v1",
        "objectbucket.io": "objectbucket.io/v1alpha1",
        "route.openshift.io": "route.openshift.io/v1",
        "tekton.dev": "tekton.dev/v1",
        "intel.com": "intel.com/v1alpha1",
    }
    for name, group_version in expected.items():
        assert groups[name].preferred_version.group_version == group_version


async def test_group_version_resources(api_client: client.ApiClient) -> None:
    resources = await client.CustomObjectsApi(api_client).get_api_resources(
        "objectbucket.io", "v1alpha1"
    )
    by_name = {r.name: r for r in resources.resources}
    assert by_name["objectbucketclaims"].namespaced is True
    assert by_name["objectbuckets"].namespaced is False
    assert by_name["objectbucketclaims"].singular_name == "objectbucketclaim"
    assert "objectbucketclaims/status" in by_name
    apps = await client.AppsV1Api(api_client).get_api_resources()
    assert "deployments" in {r.name for r in apps.resources}


async def test_unknown_group_version_is_404(sim_server: ApiServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim_server.url}/apis/nothing.example.com/v1") as response:
            assert response.status == 404
            body = await response.json()
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "NotFound", 404)


async def test_registering_a_kind_serves_it() -> None:
    server = ApiServer()
    server.registry.register(custom_kind("example.com/v2", "Widget", short_names=("wd",)))
    async with server, client.ApiClient(client.Configuration(host=server.url)) as api:
        objects = client.CustomObjectsApi(api)
        resources = await objects.get_api_resources("example.com", "v2")
        assert [r.name for r in resources.resources] == ["widgets", "widgets/status"]
        body = {"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}}
        await objects.create_namespaced_custom_object(
            "example.com", "v2", "default", "widgets", body
        )
        listed = await objects.list_namespaced_custom_object(
            "example.com", "v2", "default", "widgets"
        )
    assert [item["metadata"]["name"] for item in listed["items"]] == ["w"]


async def test_kubeconfig_points_a_real_client_at_the_server(
    sim_server: ApiServer, tmp_path: Path
) -> None:
    path = write_kubeconfig(tmp_path / "kube" / "config", sim_server.url, namespace="team")
    assert path.stat().st_mode & 0o777 == 0o600
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(path), client_configuration=configuration)
    assert configuration.host == sim_server.url
    async with client.ApiClient(configuration) as api:
        namespaces = await client.CoreV1Api(api).list_namespace()
    assert {"default", "kube-system"} <= {ns.metadata.name for ns in namespaces.items}
    _, active = config.list_kube_config_contexts(config_file=str(path))
    assert active is not None
    assert active["context"]["namespace"] == "team"
