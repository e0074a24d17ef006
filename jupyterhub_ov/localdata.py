"""The local mode's data directory: who may read what (used by the shipped configuration).

::

    data/               0755  (the admin's choice of place)
      hub/              0700  the hub's state: databases, cookie secrets, S3 admin key, pids
      users/            0711  one work directory per user, each 0700 and owned by its account
      environments/     0755  the image catalog: environments every user's server runs

Everything secret lives under ``hub/``, so a file added there later is private without anyone
thinking about its mode. Files an older version kept directly in ``data/`` are moved into
``hub/`` once (with a SQLite journal beside them, if a killed hub left one): nothing is lost.
Runs once, while the hub loads its configuration, before its event loop serves anyone.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

#: what older versions kept in data/ itself, and what the hub and its services keep in hub/
STATE_FILES = (
    "jupyterhub.sqlite",
    "jupyterhub_cookie_secret",
    "jupyterhub.pid",
    "jupyterhub-proxy.pid",
    "builds.sqlite",
    "builder_cookie_secret",
    "s3-admin.json",
)
_SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def state(self) -> Path:
        return self.root / "hub"

    @property
    def users(self) -> Path:
        return self.root / "users"

    @property
    def environments(self) -> Path:
        return self.root / "environments"

    def prepare(self) -> list[str]:
        """Create the layout with its modes; move legacy state in. What was moved."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.state, 0o700)
        self.users.mkdir(mode=0o711, exist_ok=True)
        self.environments.mkdir(mode=0o755, exist_ok=True)
        moved = []
        for name in STATE_FILES:
            for suffix in ("", *_SQLITE_COMPANIONS) if name.endswith(".sqlite") else ("",):
                old, new = self.root / (name + suffix), self.state / (name + suffix)
                if old.exists() and not new.exists():
                    os.replace(old, new)
                    moved.append(name + suffix)
        return moved

    def secret(self, name: str, nbytes: int = 24) -> str:
        """A random secret kept in ``hub/<name>`` (0600), made on first use."""
        path = self.state / name
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
        return value
