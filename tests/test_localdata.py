"""The local data directory: modes, and the one-time move of an older layout's state."""

from __future__ import annotations

from jupyterhub_ov.localdata import STATE_FILES, DataDir


def mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_the_layout_keeps_state_private_and_work_dirs_unlisted(tmp_path):
    data = DataDir(tmp_path / "data")
    assert data.prepare() == []
    assert (mode(data.state), mode(data.users), mode(data.environments)) == (0o700, 0o711, 0o755)
    data.state.chmod(0o755)  # loosened by hand: closed again at the next start
    data.prepare()
    assert mode(data.state) == 0o700


def test_an_older_layouts_state_moves_in_once_and_nothing_is_lost(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for name in STATE_FILES:
        (root / name).write_text(f"old {name}")
    (root / "jupyterhub.sqlite-journal").write_text("hot journal")  # a killed hub's
    (root / "users").mkdir()
    (root / "users" / "alice").mkdir()
    data = DataDir(root)
    moved = data.prepare()
    assert sorted(moved) == sorted([*STATE_FILES, "jupyterhub.sqlite-journal"])
    for name in STATE_FILES:
        assert (data.state / name).read_text() == f"old {name}" and not (root / name).exists()
    assert (data.state / "jupyterhub.sqlite-journal").read_text() == "hot journal"
    assert (root / "users" / "alice").is_dir()
    # a file in both places is never overwritten: the new one wins, the old one stays
    (root / "builds.sqlite").write_text("stray")
    assert data.prepare() == []
    assert (data.state / "builds.sqlite").read_text() == "old builds.sqlite"
    assert (root / "builds.sqlite").read_text() == "stray"


def test_a_secret_is_made_once_private_and_kept(tmp_path):
    data = DataDir(tmp_path / "data")
    data.prepare()
    first = data.secret("admin-password", nbytes=30)
    assert len(first) >= 32 and mode(data.state / "admin-password") == 0o600
    assert data.secret("admin-password") == first
