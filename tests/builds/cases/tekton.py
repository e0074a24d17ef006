"""The Tekton backend's case: the OpenShift case's cluster, with PipelineRuns for the builds.

The simulator's Tekton controller runs the PipelineRun's steps as local processes. Their
images map to ``PATH``s (``image_env``): the git step finds the real ``git`` (the case's
repositories are ``file://`` ones), the buildah and s2i steps find the stand-ins of
`tools`, which check what a real buildah and s2i would need (a Dockerfile starting with
FROM, a source directory) and write the pushed digest where ``--digestfile`` says. What fails
or waits is the controller's `RunRules`: the runs of the FAIL and SLOW variants' requests.
Imports and validation are the OpenShift case's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov_sim.cluster import this_environment_path
from jupyterhub_ov_sim.pipelineruns import RunInput, RunRules

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.backends.tekton import TektonBuildBackend, manifests, status
from jupyterhub_ov.builds.model.spec import ResolvedBuild
from tests.sim.helpers import eventually

from . import FAIL, SLOW
from .openshift import NAMESPACE, Flavour, OpenShiftCase, case_in, settled

kind = "tekton"
BUILDAH, GIT, S2I = "quay.io/example/buildah:1", "quay.io/example/git:1", "quay.io/example/s2i:1"

#: a stand-in for buildah: ``bud`` checks the Dockerfile, ``push`` writes the digest file
BUILDAH_SCRIPT = r"""#!/bin/sh
set -e
command=""; file=""; digestfile=""; last=""
for arg in "$@"; do
  case "$last" in -f) file="$arg";; --digestfile) digestfile="$arg";; esac
  case "$arg" in bud|push) command="$arg";; esac
  last="$arg"
done
case "$command" in
bud)
  test -f "$file" || { echo "Error: no Dockerfile at $file" >&2; exit 125; }
  head -n 1 "$file" | grep -q '^FROM ' || { echo "Error: no FROM statement found" >&2; exit 125; }
  echo "STEP 1/2: $(head -n 1 "$file")"
  echo "STEP 2/2: COMMIT $last";;
push)
  printf 'sha256:%s' "$(printf %s "$last" | sha256sum | cut -d' ' -f1)" > "$digestfile"
  echo "Writing manifest to image destination";;
*) echo "buildah: unknown command" >&2; exit 125;;
esac
"""
#: a stand-in for ``s2i build SRC BUILDER --as-dockerfile OUT``
S2I_SCRIPT = r"""#!/bin/sh
set -e
test "$1" = build && test -d "$2" || { echo "s2i: no source directory" >&2; exit 1; }
out="$5"; mkdir -p "$(dirname "$out")/upload"; cp -R "$2" "$(dirname "$out")/upload/src"
printf 'FROM %s\nCOPY upload/src /tmp/src\nRUN /usr/libexec/s2i/assemble\n' "$3" > "$out"
echo "Application dockerfile generated in $out"
"""


def tools(root: Path) -> dict[str, Any]:
    """The step images' ``PATH``s and the controller's fault rules (cluster options)."""
    directory = root / "tekton-tools"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (("buildah", BUILDAH_SCRIPT), ("s2i", S2I_SCRIPT)):
        (directory / name).write_text(text)
        (directory / name).chmod(0o755)
    path = {"PATH": f"{directory}:{this_environment_path()}"}
    rules = RunRules(fail=variant_runs(FAIL), hold=variant_runs(SLOW))
    return {"image_env": {BUILDAH: path, S2I: path, GIT: path}, "pipeline_rules": rules}


def variant_runs(variant: str) -> Callable[[RunInput], bool]:
    """Runs of this variant's requests: PipelineRuns are named ``<request>-<tag>``."""
    prefixes = tuple(f"{k}-{variant}-" for k in ("pkgs", "repo"))
    return lambda run: run.run.startswith(prefixes)


@dataclass
class TektonCase(OpenShiftCase):
    kind: str = kind
    backends: list[Any] = field(default_factory=list)

    @property
    def rules(self) -> RunRules:
        assert self.cluster.pipelines is not None
        return self.cluster.pipelines.rules

    def release(self) -> None:
        super().release()
        self.rules.release()

    async def cluster_builds(self, resolved: ResolvedBuild) -> list[dict[str, Any]]:
        selector = f"{objects.LABEL_INSTANCE}={objects.instance_name(resolved)}"
        return await self.observer.list(manifests.PIPELINE_RUNS, selector)

    async def active_builds(self, resolved: ResolvedBuild) -> list[str]:
        return [
            f"PipelineRun {r['metadata']['name']} is {status.run_state(r).reason}"
            for r in await self.cluster_builds(resolved)
            if not status.run_state(r).done
        ]

    async def build_held(self, build: str) -> None:
        await eventually(lambda: build in self.rules.holding, 30)

    async def builds_working(self, resolved: ResolvedBuild) -> list[str]:
        running = await self.active_builds(resolved)
        for run in await self.cluster_builds(resolved):
            name = run["metadata"]["name"]
            if status.run_state(run).state == status.CANCELLED_STATE and not await settled(
                lambda n=name: n in self.rules.cancelled  # type: ignore[misc]
            ):
                running.append(f"the work of PipelineRun {name} was not cancelled")
        return running


FLAVOUR = Flavour(backend_class=TektonBuildBackend, case_class=TektonCase, cluster=tools)


@asynccontextmanager
async def case(request: Any, **backend_config: Any) -> Any:
    """The contract suite's entry (pytest's ``request``): the OpenShift case's, for Tekton."""
    settings = {"buildah_image": BUILDAH, "git_image": GIT, "s2i_image": S2I}
    async with case_in(
        request.getfixturevalue("tmp_path"), flavour=FLAVOUR, **settings, **backend_config
    ) as the_case:
        yield the_case


__all__ = ["NAMESPACE", "TektonCase", "case"]
