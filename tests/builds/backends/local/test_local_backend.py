"""What only the local backend does: layers, constraints, repositories, imports, validation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import pytest
from traitlets import TraitError

from jupyterhub_ov.builds.backends.local.backend import LocalBuildBackend
from jupyterhub_ov.builds.backends.local.entries import MARKER as BUILD_MARKER
from jupyterhub_ov.builds.backends.local.layers import LOCK_FILE
from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.phases import PATHS, Phase
from jupyterhub_ov.builds.store import BuildStore
from jupyterhub_ov.images.local import LocalImageCatalog
from jupyterhub_ov.images.manifest import MANIFEST_FILE
from tests.builds.cases.local import PYTHON, local_backend, package_list, parse, request_body
from tests.builds.gitrepos import Repo
from tests.builds.harness import RecordingReporter, drive, processes_mentioning
from tests.environments import MARKER, make_environment
from tests.util import REPO

BASE_PACKAGING = metadata.version("packaging")
REAL_PREFIX = os.path.realpath(sys.prefix)


@pytest.fixture
def backend(tmp_path: Path, wheels: Path) -> LocalBuildBackend:
    return local_backend(tmp_path / "environments", wheels)


def run_python(env: str, code: str) -> str:
    python = os.path.join(env, "bin", "python")
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout


def layer_distributions(env: str) -> set[str]:
    code = (
        "import importlib.metadata as m, site; "
        "print(' '.join(sorted(d.metadata['Name'] for d in"
        " m.distributions(path=site.getsitepackages()))))"
    )
    return set(run_python(env, code).split())


def make_dir(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def listing(path: str | Path) -> list[str]:
    return sorted(os.listdir(path)) if os.path.exists(path) else []


def bare_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


async def test_layer_holds_only_the_users_packages_and_sees_the_base(
    backend: LocalBuildBackend, tmp_path: Path
) -> None:
    request = package_list("layer", "ovtiny>=2", "ovneeds")
    reporter = RecordingReporter(request.build_type)
    await reporter.phase(Phase.RESOLVING)
    resolved = await backend.resolve(request, reporter)
    assert resolved.lock == (
        "ovdep==1.0",
        "ovneeds==1.0",
        "ovtiny==2.0",
        f"packaging=={BASE_PACKAGING}",  # the base's version, though 99.0 is offered
    )
    # a leftover of an unfinished build of ours is replaced, not an obstacle
    leftover = make_dir(Path(backend.entry_dir(resolved)), {BUILD_MARKER: "", "half-made": "x"})
    published = await backend.build(resolved, reporter)
    assert published.reference == str(leftover)
    assert [(p.name, p.version) for p in published.packages] == [
        ("ovneeds", "1.0"),
        ("ovtiny", "2.0"),
    ]
    assert_layered(leftover, resolved.lock, resolved.tag)


def assert_layered(env: Path, lock: tuple[str, ...], tag: str) -> None:
    assert not (env / "half-made").exists()
    # only the user's packages are in the layer; packaging and jupyterlab come from the base
    assert layer_distributions(str(env)) == {"ovdep", "ovneeds", "ovtiny"}
    where = json.loads(
        run_python(
            str(env),
            "import json, jupyterlab, ovtiny, packaging; print(json.dumps("
            "[ovtiny.VERSION, ovtiny.__file__, jupyterlab.__file__, packaging.__file__]))",
        )
    )
    assert where[0] == "2.0" and where[1].startswith(str(env))
    assert where[2].startswith(sys.prefix) and where[3].startswith(sys.prefix)
    assert (env / LOCK_FILE).read_text().splitlines() == list(lock)

    # Jupyter's data: containers real, the base's entries linked; its config: copied
    for sub in (
        "share/jupyter/lab",
        "share/jupyter/kernels",
        "etc/jupyter/jupyter_server_config.d",
    ):
        assert (env / sub).is_dir() and not (env / sub).is_symlink()
    static = "share/jupyter/lab/static"
    assert os.readlink(env / static) == f"{sys.prefix}/{static}"
    enabling = Path("etc/jupyter/jupyter_server_config.d/jupyterlab.json")
    assert not (env / enabling).is_symlink()
    assert (env / enabling).read_text() == (Path(sys.prefix) / enabling).read_text()

    manifest = json.loads((env / MANIFEST_FILE).read_text())
    assert manifest["phase"] == "Succeeded" and manifest["tag"] == tag
    assert manifest["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert not list(env.glob(f".{MANIFEST_FILE}*"))  # no temp file of the atomic write


async def test_resolving_is_constrained_to_the_base(backend: LocalBuildBackend) -> None:
    reporter = RecordingReporter(spec.BuildType.PACKAGE_LIST)
    with pytest.raises(BuildFailed, match="packages could not be resolved") as failed:
        await backend.resolve(package_list("conflict", "ovconflict"), reporter)
    # ovconflict wants packaging<1: 0.5 is offered, but the base has another version
    assert f"packaging=={BASE_PACKAGING}" in str(failed.value)


async def test_commit_and_base_are_part_of_the_tag(
    backend: LocalBuildBackend, notebook_repo: Repo, tmp_path: Path
) -> None:
    reporter = RecordingReporter(spec.BuildType.GIT_REPOSITORY)
    url = notebook_repo.url
    main = await backend.resolve(
        parse("demo", spec.BuildType.GIT_REPOSITORY, repositoryUrl=url), reporter
    )
    nxt = await backend.resolve(
        parse("demo", spec.BuildType.GIT_REPOSITORY, repositoryUrl=url, gitRef="next"), reporter
    )
    assert (main.commit, nxt.commit) == (
        notebook_repo.commits["main"],
        notebook_repo.commits["next"],
    )
    assert main.lock == nxt.lock == ("ovtiny==1.0",)
    assert main.tag != nxt.tag  # same packages, another commit
    # packages the service adds (openvino for the OpenVINO image) join the repository's
    plain = parse("demo", spec.BuildType.GIT_REPOSITORY, repositoryUrl=url)
    added = await backend.resolve(replace(plain, package_versions=("ovdep",)), reporter)
    assert added.lock == ("ovdep==1.0", "ovtiny==1.0") and added.tag != main.tag
    with pytest.raises(BuildFailed, match="cannot build a Dockerfile"):
        await backend.resolve(replace(plain, strategy=spec.DOCKERFILE), reporter)

    # the same package list on another base (one layered on the hub's environment)
    other_base = make_environment(tmp_path / "other-base", MARKER)
    on_hub, on_other = [
        await backend.resolve(
            parse("b", spec.BuildType.PACKAGE_LIST, packageVersions=["ovtiny"], builderImage=base),
            reporter,
        )
        for base in (sys.prefix, str(other_base))
    ]
    assert on_hub.lock == on_other.lock and on_hub.tag != on_other.tag
    assert on_other.base.startswith(f"{other_base} python=")


async def test_python_version_must_match_the_base(backend: LocalBuildBackend) -> None:
    minor = sys.version_info[1]
    other = f"3.{minor - 1}"
    with pytest.raises(BuildFailed) as failed:
        await backend.resolve(
            package_list("old", "ovtiny", python=other), RecordingReporter("PackageList")
        )
    assert str(failed.value) == (
        f"Python {other} was requested, but the base environment runs Python {PYTHON}:"
        f" a local build uses the base's interpreter. Ask for {PYTHON}, or choose a base"
        f" environment with Python {other} (spec.builderImage)."
    )


async def test_builder_image_is_another_base(backend: LocalBuildBackend, tmp_path: Path) -> None:
    reporter = RecordingReporter(spec.BuildType.PACKAGE_LIST)

    def with_builder(path: str) -> spec.BuildRequest:
        return parse(
            "b", spec.BuildType.PACKAGE_LIST, packageVersions=["ovtiny"], builderImage=path
        )

    with pytest.raises(BuildFailed, match=r"is not a Python environment: it has no bin/python"):
        await backend.resolve(with_builder(str(tmp_path / "nothing")), reporter)
    plain = bare_venv(tmp_path / "plain")
    with pytest.raises(BuildFailed, match=f"base environment {plain} cannot serve notebooks"):
        await backend.resolve(with_builder(str(plain)), reporter)
    resolved = await backend.resolve(with_builder(sys.prefix), reporter)
    assert resolved.base.startswith(f"{REAL_PREFIX} python=")


async def test_hostile_requirements_are_refused(
    backend: LocalBuildBackend, hostile_repo: Repo
) -> None:
    request = parse("hostile", spec.BuildType.GIT_REPOSITORY, repositoryUrl=hostile_repo.url)
    with pytest.raises(BuildFailed) as failed:
        await drive(backend, request, RecordingReporter(request.build_type))
    assert str(failed.value) == (
        "The repository's requirements.txt cannot be used: requirements.txt line 2: package"
        " '--index-url https://evil.example/simple': pip options are not allowed, only"
        " requirements"
    )
    assert listing(backend.catalog_dir) == []


async def test_repository_build_brings_its_notebooks(
    backend: LocalBuildBackend, notebook_repo: Repo
) -> None:
    request = parse("demo", spec.BuildType.GIT_REPOSITORY, repositoryUrl=notebook_repo.url)
    reporter = RecordingReporter(request.build_type)
    published = await drive(backend, request, reporter)
    env = Path(published.reference)
    notebooks = env / "notebooks"
    files = sorted(str(p.relative_to(notebooks)) for p in notebooks.rglob("*"))
    assert files == ["data", "data/readme.md", "demo.ipynb", "requirements.txt"]
    assert (notebooks / "demo.ipynb").read_bytes() == (
        notebook_repo.path / "demo.ipynb"
    ).read_bytes()
    assert any("outside-link (a symbolic link)" in line for line in reporter.lines)
    assert json.loads((env / MANIFEST_FILE).read_text())["notebooks"] == "notebooks"
    assert layer_distributions(str(env)) == {"ovtiny"}
    (image,) = await LocalImageCatalog(
        catalog_dir=backend.catalog_dir, include_hub_environment=False
    ).refresh()
    assert image.tags[0].notebooks == str(notebooks)


async def test_import_references_an_existing_environment(
    backend: LocalBuildBackend, tmp_path: Path
) -> None:
    link = tmp_path / "hub-env-link"
    link.symlink_to(sys.prefix)
    request = parse("imported", spec.BuildType.IMPORT_IMAGE, fromImage=str(link))
    published = await drive(backend, request, RecordingReporter(request.build_type))
    assert published.reference == REAL_PREFIX
    entry = Path(backend.catalog_dir) / f"imported-notebook--{published.image.split(':')[1]}"
    assert listing(entry) == [BUILD_MARKER, MANIFEST_FILE]
    manifest = json.loads((entry / MANIFEST_FILE).read_text())
    assert manifest["environment"] == published.reference
    names = {p.name for p in published.packages}
    assert "jupyterhub-ov" in names and "jupyterlab" not in names  # top-level only
    (image,) = await LocalImageCatalog(
        catalog_dir=backend.catalog_dir, include_hub_environment=False
    ).refresh()
    assert image.tags[0].reference == published.reference


async def test_validation_names_the_failed_checks(
    backend: LocalBuildBackend, tmp_path: Path
) -> None:
    plain = bare_venv(tmp_path / "plain")
    request = parse("plain", spec.BuildType.IMPORT_IMAGE, fromImage=str(plain))
    reporter = RecordingReporter(request.build_type)
    with pytest.raises(BuildFailed) as failed:
        await drive(backend, request, reporter)
    message = str(failed.value)
    assert message.startswith(
        "The image failed validation: import jupyterhub failed: ModuleNotFoundError"
    )
    assert "import jupyterlab failed: ModuleNotFoundError" in message
    assert "Python 3.8" not in message and "HOME" not in message  # those passed
    assert reporter.phases[-1] == Phase.VALIDATING
    assert os.listdir(backend.catalog_dir) == []
    assert any(line.startswith("FAILED: import jupyterlab") for line in reporter.lines)


async def test_a_directory_not_made_by_the_service_is_never_touched(
    backend: LocalBuildBackend,
) -> None:
    request = package_list("mine", "ovtiny")
    reporter = RecordingReporter(request.build_type)
    resolved = await backend.resolve(request, reporter)
    precious = make_dir(Path(backend.entry_dir(resolved)), {"thesis.tex": "years of work"})
    with pytest.raises(BuildFailed, match="was not made by the build service; nothing was"):
        await backend.build(resolved, reporter)
    assert (precious / "thesis.tex").read_text() == "years of work"


async def test_concurrent_builds_of_one_image_build_once(backend: LocalBuildBackend) -> None:
    """Requests that differ in their description only (so the manager does not join them)
    resolve to the same directory: the second waits and takes the first's result."""
    first = package_list("same", "ovtiny<2")
    second = spec.BuildRequest(**{**first.__dict__, "description": "Another description"})
    assert first.key != second.key
    one, two = RecordingReporter(first.build_type), RecordingReporter(second.build_type)
    a, b = await asyncio.gather(drive(backend, first, one), drive(backend, second, two))
    assert a == b
    assert sorted([one.phases, two.phases], key=len) == [
        [Phase.PREPARING, Phase.RESOLVING, Phase.SUCCESS],
        list(PATHS[spec.BuildType.PACKAGE_LIST]),
    ]
    created = [line for line in one.lines + two.lines if "Creating virtual environment" in line]
    assert len(created) == 1


# --- where a request's environments may come from ------------------------------------------


def test_the_service_takes_absolute_paths_for_local_imports_and_bases() -> None:
    policy = spec.SpecPolicy(import_source=LocalBuildBackend.import_source)
    ok = request_body("abs", spec.BuildType.IMPORT_IMAGE, fromImage="/opt/envs/scipy")
    assert spec.parse_request(ok, creator="t", policy=policy).from_image == "/opt/envs/scipy"
    for raw in ("users/alice/venv", "./venv", "quay.io/x/y:1", "/opt/../etc"):
        for key, build_type in (
            ("fromImage", spec.BuildType.IMPORT_IMAGE),
            ("builderImage", "PackageList"),
        ):
            body = request_body("rel", build_type, **{key: raw})
            with pytest.raises(spec.InvalidBuildRequest, match=f"spec.{key} .* absolute path"):
                spec.parse_request(body, creator="t", policy=policy)


@pytest.mark.parametrize("key", ["fromImage", "builderImage"])
@pytest.mark.parametrize("raw", ["users/alice/venv", "venv", "./x", "../x"])
async def test_a_relative_path_is_refused_never_resolved_against_the_cwd(
    backend: LocalBuildBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key, raw
) -> None:
    # what the finding saw: the service's cwd holds users/ (its data dir), so this resolved
    make_environment(tmp_path / "users" / "alice" / "venv", {"name": "mine-notebook"})
    monkeypatch.chdir(tmp_path)
    request = _requesting(key, "/placeholder")
    request = replace(request, **{_FIELDS[key]: raw})  # past the service's own validation
    with pytest.raises(BuildFailed, match=f"spec.{key} '{re.escape(raw)}' must be an absolute"):
        await backend.resolve(request, RecordingReporter(request.build_type))
    assert listing(backend.catalog_dir) == []


_FIELDS = {"fromImage": "from_image", "builderImage": "builder_image"}


def _requesting(key: str, path: str) -> spec.BuildRequest:
    if key == "fromImage":
        return parse("named", spec.BuildType.IMPORT_IMAGE, fromImage=path)
    return parse(
        "named", spec.BuildType.PACKAGE_LIST, packageVersions=["ovtiny"], builderImage=path
    )


@pytest.mark.parametrize("key", ["fromImage", "builderImage"])
async def test_environments_in_refused_roots_are_refused(
    tmp_path: Path, wheels: Path, key: str
) -> None:
    data = tmp_path / "data"
    backend = local_backend(data / "environments", wheels, refused_roots=[str(data)])
    await backend.start()
    users = data / "users"
    inside = bare_venv(users / "alice" / "venv")
    (tmp_path / "link").symlink_to(inside)  # a path outside that leads inside
    evil_python = users / "alice" / "python"
    evil_python.write_text("#!/bin/sh\n")
    evil_python.chmod(0o755)
    outside = bare_venv(tmp_path / "outside")  # outside, but its interpreter is a user's
    (outside / "bin" / "python").unlink()
    (outside / "bin" / "python").symlink_to(evil_python)
    cases = [
        (inside, f"spec.{key} '{inside}' is inside {data}"),
        (tmp_path / "link", f"spec.{key} '{tmp_path / 'link'}' (really {inside}) is inside {data}"),
        (outside, f"spec.{key} '{outside}' runs {evil_python}, inside {data}"),
    ]
    for path, message in cases:
        request = _requesting(key, str(path))
        with pytest.raises(BuildFailed) as refused:
            await backend.resolve(request, RecordingReporter(request.build_type))
        assert str(refused.value) == (
            f"{message}, where environments may not come from (LocalBuildBackend.refused_roots)"
        )
    assert listing(backend.catalog_dir) == []


async def test_the_catalog_is_allowed_inside_a_refused_root(tmp_path: Path, wheels: Path) -> None:
    data = tmp_path / "data"
    backend = local_backend(data / "environments", wheels, refused_roots=[str(data)])
    await backend.start()
    handmade = bare_venv(data / "environments" / "handmade")
    request = parse("again", spec.BuildType.IMPORT_IMAGE, fromImage=str(handmade))
    resolved = await backend.resolve(request, RecordingReporter(request.build_type))
    assert resolved.source == str(handmade)


def test_refused_roots_must_be_absolute() -> None:
    with pytest.raises(TraitError, match="'data' is not absolute"):
        LocalBuildBackend(refused_roots=["data"])


# --- what a build killed with the service leaves behind ------------------------------------

KILLED_BUILD = """
import asyncio, sys
from pathlib import Path
from tests.builds.cases.local import local_backend, package_list
from tests.builds.harness import RecordingReporter, drive

async def main():
    backend = local_backend(Path(sys.argv[1]), Path(sys.argv[2]))
    await backend.start()
    request = package_list("killed", "ovtiny>=2")
    await drive(backend, request, RecordingReporter(request.build_type))
    print("FINISHED", flush=True)

asyncio.run(main())
"""


def _phase_of(entry: Path) -> str | None:
    try:
        return str(json.loads((entry / MANIFEST_FILE).read_text())["phase"])
    except (OSError, ValueError):
        return None


def _entries(catalog: Path) -> list[Path]:
    return sorted(catalog.glob("killed-notebook--*")) if catalog.exists() else []


def _scratch(work: Path, what: str = "*") -> list[Path]:
    """The build's scratch directories in the backend's work_dir (`workdir.scratch`)."""
    return sorted(work.glob(f"jupyterhub-ov-{what}-*")) if work.exists() else []


def _built_unvalidated(catalog: Path) -> bool:
    return any((e / "bin" / "python").exists() and not _phase_of(e) for e in _entries(catalog))


def _validating(catalog: Path, work: Path) -> bool:
    return any(_phase_of(e) == "Validating" for e in _entries(catalog)) and bool(
        _scratch(work, "validate")
    )


async def _restart(backend: LocalBuildBackend, db: Path) -> None:
    """The service's start: the backend, then the manager (which clears work_dir)."""
    store = BuildStore(f"sqlite:///{db}")
    await store.start()
    manager = BuildManager(store=store, backend=backend, policy=spec.SpecPolicy())
    try:
        await backend.start()
        await manager.start()
    finally:
        await manager.stop()
        await store.close()


@pytest.mark.parametrize(
    "kill_when",
    [
        pytest.param(lambda c, w: bool(_scratch(w, "resolve")), id="resolving"),
        pytest.param(lambda c, w: _built_unvalidated(c), id="building"),
        pytest.param(_validating, id="validating"),
    ],
)
def test_a_build_killed_mid_run_is_never_offered_and_removed_on_restart(
    tmp_path: Path, wheels: Path, caplog: pytest.LogCaptureFixture, kill_when
) -> None:
    """Its catalog entry is hidden, then removed; its scratch directories (the lock being
    resolved, the validation's home) are in the backend's own work_dir, not /tmp, and the
    restarted service removes them (found by the servicecrash reliability scenario)."""
    catalog, work = tmp_path / "environments", tmp_path / "work"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(catalog), str(wheels)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not kill_when(catalog, work):
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, "the build never got there"
            time.sleep(0.01)
    finally:
        proc.kill()  # SIGKILL: no cleanup runs, as when the service is killed
        proc.communicate()
        _kill_orphans(str(tmp_path))  # its own children (uv, validation server)
    entries, scratch = _entries(catalog), _scratch(work)
    assert all((entry / BUILD_MARKER).exists() for entry in entries)
    images = LocalImageCatalog(
        catalog_dir=str(catalog), include_hub_environment=False, rescan_interval=0
    )
    assert images.images() == []  # left, but never offered

    with caplog.at_level(logging.WARNING):
        asyncio.run(_restart(local_backend(catalog, wheels), tmp_path / "builds.sqlite"))
    assert listing(catalog) == [] and listing(work) == []
    messages = [r.getMessage() for r in caplog.records]
    if entries:
        (entry,) = entries
        assert (
            f"Removed 1 directories of builds that did not finish from {catalog}: {entry.name}"
            in messages
        )
    if scratch:
        names = ", ".join(p.name for p in scratch)
        assert (
            f"Removed {len(scratch)} scratch directories of builds killed with the service: {names}"
            in messages
        )
    assert entries or scratch  # something was left to remove
    assert images.images() == []


def _kill_orphans(text: str) -> None:
    for found in processes_mentioning(text):
        pid = int(found.split(":")[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def test_start_removes_only_unfinished_builds_of_its_own(
    backend: LocalBuildBackend, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = Path(backend.catalog_dir)

    def entry(name: str, marker: bool, manifest: str | None) -> Path:
        path = make_dir(catalog / name, {BUILD_MARKER: ""} if marker else {})
        if manifest is not None:
            (path / MANIFEST_FILE).write_text(manifest)
        return path

    entry("no-manifest", True, None)
    entry("validating", True, json.dumps({"phase": "Validating"}))
    entry("half-written", True, '{"phase": "Succ')
    entry("not-an-object", True, "[]")
    fifo = entry("fifo-manifest", True, None)
    os.mkfifo(fifo / MANIFEST_FILE)  # never opened in a way that waits
    kept = [
        entry("finished", True, json.dumps({"phase": "Succeeded"})),
        entry("handmade", False, None),  # not ours: never touched
        entry("handmade-validating", False, json.dumps({"phase": "Validating"})),
    ]
    (catalog / "linked").symlink_to(catalog / "no-manifest-elsewhere", target_is_directory=True)
    (catalog / "stray-file").write_text("")
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(LocalBuildBackend(catalog_dir=str(catalog)).start(), 10)
    assert listing(catalog) == sorted([p.name for p in kept] + ["linked", "stray-file"])
    (line,) = [r.getMessage() for r in caplog.records if "did not finish" in r.getMessage()]
    assert line.endswith(": fifo-manifest, half-written, no-manifest, not-an-object, validating")


async def test_discard_removes_an_interrupted_build_only(backend: LocalBuildBackend) -> None:
    request = package_list("discarded", "ovtiny")
    resolved = await backend.resolve(request, RecordingReporter(request.build_type))
    directory = Path(backend.entry_dir(resolved))
    make_dir(directory, {BUILD_MARKER: "", MANIFEST_FILE: json.dumps({"phase": "Validating"})})
    await backend.discard(resolved, "")
    assert listing(directory) == []
    make_dir(directory, {MANIFEST_FILE: json.dumps({"phase": "Validating"})})  # not ours
    await backend.discard(resolved, "")
    assert listing(directory) == [MANIFEST_FILE]
