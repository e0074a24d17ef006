"""Pure: which of the hub's environment variables its children need to reach the network.

JupyterHub starts managed services and local single-user servers with a reduced
environment (``env_keep``: PATH, LANG, ...). Behind a corporate CA or proxy that breaks every
download: uv, pip, requests and git then lack the CA bundle, the proxy and the index the hub
itself was given. `NETWORK_ENV` is the one list of what is handed on — the shipped config
gives it to the build service (its ``environment``), `OVLocalSpawner` to the servers (its
``env_keep``).

What is in it, and why:

- trust: CA bundles and directories read by OpenSSL (Python's ``ssl``, git, curl), requests,
  pip, git and boto3 (a notebook's S3 client) — they only *add* trust;
- proxies: ``HTTP(S)_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``, in both cases (curl reads
  ``http_proxy`` only in lower case, Python and uv read both);
- indexes: where pip and uv look for packages, and uv's use of the system certificate store.

What is deliberately not in it: anything that turns verification off (``PIP_TRUSTED_HOST``,
``UV_INSECURE_HOST``), local package directories (``PIP_FIND_LINKS``, ``UV_FIND_LINKS``,
``PIP_NO_INDEX``: where builds take packages from is the build backend's configuration, not
an accident of the hub's shell), and index credentials (``UV_INDEX_<name>_PASSWORD``...).
A proxy or index URL may carry credentials: that is the admin's choice, so it is passed on,
but only the *names* of the variables are ever logged (`describe`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: certificate authorities to trust (files or directories)
TLS_ENV = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "AWS_CA_BUNDLE",
)
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
#: proxies, upper and lower case
PROXY_ENV = tuple(name for upper in _PROXIES for name in (upper, upper.lower()))
#: package indexes of pip and uv, and uv's choice of certificate store
INDEX_ENV = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_SYSTEM_CERTS",
    "UV_NATIVE_TLS",  # uv < 0.11's name of UV_SYSTEM_CERTS, still read
)
#: everything a service or server gets from the hub's environment to reach the network
NETWORK_ENV = TLS_ENV + PROXY_ENV + INDEX_ENV


def network_env(environ: Mapping[str, str], names: Iterable[str] = NETWORK_ENV) -> dict[str, str]:
    """The variables of ``names`` that ``environ`` sets (non-empty), in the order of ``names``."""
    return {name: environ[name] for name in names if environ.get(name)}


def merged_keep(keep: Iterable[str], *more: Iterable[str]) -> list[str]:
    """``keep`` followed by the names of ``more`` it lacks (an ``env_keep`` list)."""
    out = list(keep)
    for names in more:
        out += [name for name in names if name not in out]
    return out


def describe(env: Mapping[str, str]) -> str:
    """A log line naming the network settings of ``env``: names only, values may hold
    credentials (``https://user:secret@proxy:3128``)."""
    names = [name for name in NETWORK_ENV if env.get(name)]
    if not names:
        return "Network settings: none from the environment (direct access, default CAs)"
    return f"Network settings from the environment: {', '.join(names)}"
