"""Menu render with many ImageStreams: our watch-backed catalog against what admins write today.

    /work/main/.venv/bin/python bench/menu_render.py [--streams 1000] [--tags 5]

Both sides run in one process against the cluster simulator (a real HTTP API server on
loopback, in the same event loop, so the baseline's time includes the server answering its
list, as a real API server would have to):

- baseline: stock KubeSpawner with a ``profile_list`` async callable that lists the
  ImageStreams through ``CustomObjectsApi.list_namespaced_custom_object`` on every render and
  builds one profile per stream (a tag choice per profile); the form is rendered the way
  JupyterHub asks for it, ``await spawner.get_options_form()`` (KubeSpawner's
  ``_render_options_form_dynamically`` with its own ``form.html``);
- ours: what OVKubeSpawner does per render, ``await catalog.start(...)`` (a no-op once the
  shared reflector runs), ``catalog.images(...)`` from the reflector's cache, then
  ``jupyterhub_ov.menu.render_menu``.

Reported per side: render time (median, p95), the page's size and API requests per render
from the simulator's request counters; then the speed ratio and the targets (<= 300 KB per
page, >= 200x faster at 1,000 x 5). A measurement, never a test assertion. For 10,000 x 5:
``--streams 10000 --baseline-renders 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# kubernetes_asyncio reads $KUBECONFIG when imported and KubeSpawner always loads it: name the
# file now, write it once the simulator has a port.
_WORKDIR = Path(tempfile.mkdtemp(prefix="jupyterhub-ov-bench-"))
os.environ["KUBECONFIG"] = str(_WORKDIR / "kubeconfig")

from jupyterhub_ov_sim.apiserver import ApiServer  # noqa: E402
from jupyterhub_ov_sim.kubeconfig import write_kubeconfig  # noqa: E402
from kubernetes_asyncio import client  # noqa: E402
from kubespawner import KubeSpawner  # noqa: E402
from kubespawner.clients import shared_client  # noqa: E402

from jupyterhub_ov.images import model  # noqa: E402
from jupyterhub_ov.images.kube import GROUP, PLURAL, VERSION, KubeImageCatalog  # noqa: E402
from jupyterhub_ov.menu import render_menu  # noqa: E402

NAMESPACE = "default"
MERGE = "application/merge-patch+json"


# --- the cluster --------------------------------------------------------------------------


def stream_body(i: int, tags: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One realistic notebook ImageStream (half found by name, half by label) and its status."""
    name = f"image-{i:04d}-notebook" if i % 2 else f"image-{i:04d}"
    labels = {} if i % 2 else {model.NOTEBOOK_IMAGE_LABEL: "true"}
    tag_names = [f"2024.{t}" for t in range(tags)]
    software = [{"name": "Python", "version": "3.11"}, {"name": "JupyterLab", "version": "4.2"}]
    packages = [{"name": f"package-{p}", "version": f"1.{p}"} for p in range(8)]
    tag_annotations = {
        model.ANN_SOFTWARE: json.dumps(software),
        model.ANN_DEPENDENCIES: json.dumps(packages),
        model.ANN_IMPORTED_FROM: f"quay.io/example/{name}",
    }
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ImageStream",
        "metadata": {
            "name": name,
            "labels": {**labels, model.LABEL_CREATED_BY: "byon"},
            "annotations": {
                model.ANN_NAME: f"Image {i}",
                model.ANN_DESC: f"Notebook image number {i}, with a description of some length.",
                model.ANN_URL: f"https://github.com/example/{name}",
                model.ANN_ORDER: str(i % 50),
                model.ANN_CREATOR: "admin",
                model.ANN_PHASE: "Succeeded",
            },
        },
        "spec": {
            "lookupPolicy": {"local": True},
            "tags": [{"name": t, "annotations": tag_annotations} for t in tag_names],
        },
    }
    repository = f"image-registry.sim:5000/{NAMESPACE}/{name}"
    status = {
        "dockerImageRepository": repository,
        "tags": [
            {"tag": t, "items": [{"dockerImageReference": f"{repository}@sha256:{i:04d}{t}"}]}
            for t in tag_names
        ],
    }
    return body, status


async def populate(custom: client.CustomObjectsApi, streams: int, tags: int) -> None:
    """Create the streams through the API (then their status, like the image importer)."""

    async def one(i: int) -> None:
        body, status = stream_body(i, tags)
        name = body["metadata"]["name"]
        await custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, body)
        await custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
            GROUP, VERSION, NAMESPACE, PLURAL, name, {"status": status}, _content_type=MERGE
        )

    for start in range(0, streams, 50):
        await asyncio.gather(*(one(i) for i in range(start, min(start + 50, streams))))


# --- the baseline: what admins write today ------------------------------------------------


async def imagestream_profiles(spawner: KubeSpawner) -> list[dict[str, Any]]:
    """A ``profile_list`` callable: list ImageStreams, one profile per notebook stream."""
    api = shared_client("CustomObjectsApi")
    streams = await api.list_namespaced_custom_object(GROUP, VERSION, spawner.namespace, PLURAL)
    profiles = []
    for stream in streams["items"]:
        meta = stream["metadata"]
        labels = meta.get("labels") or {}
        if not (
            meta["name"].endswith("-notebook")
            or labels.get("opendatahub.io/notebook-image") == "true"
        ):
            continue
        ann = meta.get("annotations") or {}
        if ann.get("opendatahub.io/notebook-image-phase") in ("Validating", "Failed"):
            continue
        refs = {
            t["tag"]: t["items"][0]["dockerImageReference"]
            for t in (stream.get("status") or {}).get("tags") or []
            if t.get("items")
        }
        choices = {
            tag["name"]: {
                "display_name": f"{meta['name']}:{tag['name']}",
                "kubespawner_override": {"image": refs[tag["name"]]},
            }
            for tag in stream["spec"].get("tags") or []
            if tag["name"] in refs
        }
        if not choices:
            continue
        profiles.append(
            {
                "display_name": ann.get("opendatahub.io/notebook-image-name", meta["name"]),
                "slug": meta["name"],
                "description": ann.get("opendatahub.io/notebook-image-desc", ""),
                "profile_options": {"tag": {"display_name": "Tag", "choices": choices}},
                "order": int(ann.get("opendatahub.io/notebook-image-order", 100)),
            }
        )
    profiles.sort(key=lambda p: (p["order"], p["display_name"]))
    return profiles


def baseline_spawner(api_url: str) -> KubeSpawner:
    user = SimpleNamespace(name="bench", id=1, url="/user/bench/")
    return KubeSpawner(
        user=user, k8s_api_host=api_url, namespace=NAMESPACE, profile_list=imagestream_profiles
    )


# --- measuring ----------------------------------------------------------------------------


async def measure(
    server: ApiServer, render: Callable[[], Awaitable[Any]], renders: int, warmup: int = 3
) -> dict[str, Any]:
    for _ in range(warmup):
        html = await render()
    requests_before = server.counters.total()
    times = []
    for _ in range(renders):
        start = time.perf_counter()
        html = await render()
        times.append(time.perf_counter() - start)
    requests = server.counters.total() - requests_before
    return {
        "renders": renders,
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": statistics.quantiles(times, n=20, method="inclusive")[18] * 1000,
        "requests_per_render": requests / renders,
        "html_kb": len(html) / 1024 if isinstance(html, str) else None,
    }


def report(label: str, result: dict[str, Any]) -> None:
    size = f", form {result['html_kb']:.0f} KiB" if result["html_kb"] is not None else ""
    print(
        f"{label:<40} median {result['median_ms']:9.3f} ms   p95 {result['p95_ms']:9.3f} ms"
        f"   API requests/render {result['requests_per_render']:4.2f}"
        f"   ({result['renders']} renders{size})"
    )


async def main(streams: int, tags: int, baseline_renders: int, our_renders: int) -> None:
    server = await ApiServer(seed=1).start()
    write_kubeconfig(os.environ["KUBECONFIG"], server.url)
    try:
        began = time.perf_counter()
        async with client.ApiClient(client.Configuration(host=server.url)) as api:
            await populate(client.CustomObjectsApi(api), streams, tags)
        print(
            f"{streams} ImageStreams x {tags} tags created through the API"
            f" in {time.perf_counter() - began:.1f} s; python {sys.version.split()[0]}"
        )

        # KubeSpawner.__init__ runs load_config: the shared clients now talk to the simulator
        spawner = baseline_spawner(server.url)
        baseline = await measure(server, spawner.get_options_form, baseline_renders)
        offered_baseline = (await spawner.get_options_form()).count('name="profile"')

        async def list_only() -> Any:
            return await imagestream_profiles(spawner)

        baseline_list = await measure(server, list_only, baseline_renders)

        catalog = KubeImageCatalog()

        async def catalog_only() -> list[model.NotebookImage]:
            await catalog.start(KubeSpawner, NAMESPACE)
            return catalog.images(KubeSpawner, NAMESPACE)

        saved = f"{NAMESPACE}/{stream_body(streams // 2, tags)[0]['metadata']['name']}:2024.1"

        async def ours() -> str:  # a user whose last choice is an image halfway down the menu
            return render_menu(await catalog_only(), saved)

        await ours()  # starts the shared reflector: its list + watch are once, not per render
        result = await measure(server, ours, our_renders)
        ours_catalog = await measure(server, catalog_only, 10 * our_renders)
        offered_ours = len(await catalog_only())

        print(f"images offered: baseline {offered_baseline} profiles, ours {offered_ours} images")
        report("baseline: get_options_form()", baseline)
        report("  of which profile_list (list + build)", baseline_list)
        report("ours: catalog + render_menu", result)
        report("  of which catalog (start + images())", ours_catalog)
        ratio = baseline["median_ms"] / result["median_ms"]
        p95_ratio = baseline["p95_ms"] / result["p95_ms"]
        catalog_ratio = baseline_list["median_ms"] / ours_catalog["median_ms"]
        print(
            f"speed ratio, whole render (baseline / ours): median {ratio:.1f}x,"
            f" p95 {p95_ratio:.1f}x"
        )
        print(f"speed ratio, image source (profile_list / catalog): median {catalog_ratio:.0f}x")
        print(
            f"targets: 0 API requests per render -> {result['requests_per_render']:g};"
            f" <= 300 KB per page -> {result['html_kb'] * 1024 / 1000:.0f} KB"
            f" (baseline {baseline['html_kb'] * 1024 / 1000:.0f} KB);"
            f" >= 200x faster -> {ratio:.1f}x"
        )
    finally:
        await KubeSpawner._stop_all_reflectors()
        KubeSpawner.reflectors.clear()
        await shared_client("CustomObjectsApi").api_client.close()
        await shared_client("CoreV1Api").api_client.close()
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--tags", type=int, default=5)
    parser.add_argument("--baseline-renders", type=int, default=20)
    parser.add_argument("--our-renders", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.streams, args.tags, args.baseline_renders, args.our_renders))
