"""The file work of layered environments (`builder.environments`), on temp directories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jupyterhub_ov.builds.backends.local.environments import (
    base_pth,
    copy_files,
    inspect_environment,
    link_jupyter_dirs,
    merge_links,
    remove_tree,
    write_manifest,
)

REAL_PREFIX = os.path.realpath(sys.prefix)


def tree(root: Path) -> dict[str, str]:
    """path → "dir", "file:<text>" or "link:<target>", for everything under root (links to
    directories are not entered)."""
    out = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                out[key] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                out[key] = "dir"
            else:
                out[key] = f"file:{path.read_text()}"
    return dict(sorted(out.items()))


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_merge_links_keeps_containers_real_and_links_whole_entries(tmp_path):
    """As for share/jupyter: lab, kernels, labextensions (and npm scopes) are real, so what
    the layer installs lands in the layer; the base's entries in them are linked whole."""
    base, layer = tmp_path / "base", tmp_path / "layer"
    write(
        base,
        {
            "lab/static/main.js": "main",
            "kernels/python3/kernel.json": "k",
            "labextensions/x/package.json": "base-x",
            "labextensions/y/package.json": "base-y",
            "labextensions/@scope/ext/package.json": "e",
        },
    )
    write(
        layer,
        {
            "labextensions/y/package.json": "layer-y",
            "labextensions/@scope/mine/package.json": "m",
        },
    )
    assert merge_links(base, layer, depth=1) == 4
    assert tree(layer) == {
        "kernels": "dir",
        "kernels/python3": f"link:{base}/kernels/python3",
        "lab": "dir",
        "lab/static": f"link:{base}/lab/static",
        "labextensions": "dir",
        "labextensions/@scope": "dir",
        "labextensions/@scope/ext": f"link:{base}/labextensions/@scope/ext",
        "labextensions/@scope/mine": "dir",
        "labextensions/@scope/mine/package.json": "file:m",
        "labextensions/x": f"link:{base}/labextensions/x",
        "labextensions/y": "dir",
        "labextensions/y/package.json": "file:layer-y",  # the layer's own wins
    }
    assert merge_links(base, layer, depth=1) == 0  # idempotent


def test_merge_links_can_copy_files_that_are_written_in_place(tmp_path):
    """As for etc/jupyter: `jupyter server extension enable` rewrites a config file in place,
    through a link it would write into the base."""
    base, layer = tmp_path / "base", tmp_path / "layer"
    write(base, {"server.d/lab.json": "on", "server.d/lsp.json": "on", "deep/a/b.json": "b"})
    write(layer, {"server.d/lsp.json": "layer's own"})
    assert merge_links(base, layer, depth=0, copy=True) == 2
    assert tree(layer) == {
        "deep": "dir",
        "deep/a": "dir",
        "deep/a/b.json": "file:b",
        "server.d": "dir",
        "server.d/lab.json": "file:on",
        "server.d/lsp.json": "file:layer's own",
    }


def test_merge_links_never_writes_through_a_symlink(tmp_path):
    base, elsewhere, layer = tmp_path / "base", tmp_path / "elsewhere", tmp_path / "layer"
    write(base, {"lab/a.js": "a", "etc/c.json": "c"})
    elsewhere.mkdir()
    layer.mkdir()
    (layer / "lab").symlink_to(elsewhere)  # e.g. an old environment linked whole directories
    assert merge_links(base, layer, depth=5) == 1
    assert os.listdir(elsewhere) == []  # nothing written into what the link points to
    assert tree(layer)["etc/c.json"] == f"link:{base}/etc/c.json"
    assert merge_links(base, layer / "lab", depth=5) == 0


def test_merge_links_follows_linked_directories_of_the_base_and_survives_loops(tmp_path):
    base, real, layer = tmp_path / "base", tmp_path / "real", tmp_path / "layer"
    write(real, {"sub/f.txt": "f"})
    base.mkdir()
    (base / "linked").symlink_to(real)
    (base / "loop").symlink_to(base)
    merge_links(base, layer, depth=1)
    assert tree(layer) == {"linked": "dir", "linked/sub": f"link:{base}/linked/sub"}


def test_link_jupyter_dirs_of_a_missing_base_does_nothing(tmp_path):
    assert link_jupyter_dirs(str(tmp_path / "none"), str(tmp_path / "layer")) == 0
    assert not (tmp_path / "layer").exists()


def test_base_pth_adds_site_dirs_with_their_pth_files(tmp_path):
    """A .pth in the base (as editable installs use) works in the layer too."""
    base_site, extra = tmp_path / "base-site", tmp_path / "extra"
    write(base_site, {"basemod.py": "X = 1\n", "editable.pth": f"{extra}\n"})
    write(extra, {"editmod.py": "Y = 2\n"})
    layer = tmp_path / "layer"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(layer)], check=True)
    site_dir = subprocess.check_output(
        [
            str(layer / "bin/python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        text=True,
    ).strip()
    Path(site_dir, "base.pth").write_text(base_pth([str(base_site)]))
    out = subprocess.check_output(
        [
            str(layer / "bin/python"),
            "-c",
            "import basemod, editmod, sys; print(basemod.X, editmod.Y,"
            f" sys.path.index({site_dir!r}) < sys.path.index({str(base_site)!r}))",
        ],
        text=True,
    )
    assert out.split() == ["1", "2", "True"]  # and the layer's own site dir comes first


async def test_inspect_reports_what_an_environment_has():
    info = await inspect_environment(sys.prefix)
    assert info.version == ".".join(map(str, sys.version_info[:3]))
    assert info.minor == ".".join(map(str, sys.version_info[:2]))
    assert info.missing == () and "jupyterlab" in info.packages
    assert info.prefix == REAL_PREFIX


def test_copy_files_skips_git_and_symlinks(tmp_path):
    source = tmp_path / "repo"
    write(source, {"a.ipynb": "{}", "sub/b.txt": "b", ".git/config": "x", "sub/.git": "keep"})
    (source / "sub" / "link").symlink_to("/etc/hostname")
    skipped = copy_files(str(source), str(tmp_path / "copy"))
    assert skipped == ["sub/link"]
    assert tree(tmp_path / "copy") == {
        "a.ipynb": "file:{}",
        "sub": "dir",
        "sub/.git": "file:keep",  # only the top-level .git is the repository's
        "sub/b.txt": "file:b",
    }


def test_copy_files_from_a_private_checkout_is_readable_by_everyone(tmp_path):
    source = tmp_path / "checkout"
    write(source, {"a.ipynb": "{}"})
    source.chmod(0o700)  # as tempfile.mkdtemp makes a clone's directory
    copy_files(str(source), str(tmp_path / "copy"))
    assert (tmp_path / "copy").stat().st_mode & 0o777 == 0o755


def test_write_manifest_replaces_atomically(tmp_path):
    write_manifest(str(tmp_path), {"phase": "Validating"}, "m.json")
    write_manifest(str(tmp_path), {"phase": "Succeeded"}, "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == {"phase": "Succeeded"}
    assert os.listdir(tmp_path) == ["m.json"]


def test_remove_tree_never_follows_a_link(tmp_path):
    write(tmp_path / "kept", {"f": "f"})
    (tmp_path / "link").symlink_to(tmp_path / "kept")
    remove_tree(str(tmp_path / "link"))
    remove_tree(str(tmp_path / "absent"))
    assert tree(tmp_path) == {"kept": "dir", "kept/f": "file:f"}
