"""Pure: where a build's packages come from, and the uv options that say so."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackageIndex:
    """Where packages come from (the admin's configuration)."""

    index_url: str = ""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    system_certs: bool = False

    def uv_args(self) -> list[str]:
        """The options of every ``uv pip compile`` and ``uv pip install`` of a build."""
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index:
            args.append("--no-index")
        if self.offline:
            args.append("--offline")
        if self.system_certs:
            args.append("--system-certs")
        return args
