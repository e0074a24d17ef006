"""Scenario 3, names: generated and adversarial usernames through every name we make of them.

Usernames come from hypothesis strategies and from adversarial lists (case variants, unicode
confusables and NFC/NFKC twins, separators, very long names, the platform's reserved
identities and the shapes of its own object names). Each is first normalised and validated as
the shipped authenticator does (`TrialAuthenticator`, JupyterHub's lowercase
`normalize_username` and `validate_username`): names it folds together are one user, names it
refuses are nobody. Every user is then mapped through the real name functions — work
directory, system account, local bucket and IAM user, and a real `OVKubeSpawner`'s pod, PVC,
Secret and ObjectBucketClaim names (KubeSpawner's safe slugs) — and each name is checked
against its target's rules (`namerules`), against the other users' names, and against the names
the platform keeps for itself.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jupyterhub_ov import names
from jupyterhub_ov.images.local import HUB_IMAGE_NAME
from jupyterhub_ov.service.features.modelservers.backends.base import RESERVED_NAMES
from jupyterhub_ov.spawners.accounts import ACCOUNT_MARK

from . import namerules
from .figures import Figure, info, zero

NAME = "names"
FULL, SHORT = 100_000, 10_000
_BATCH = 100

_BASES = ["alice", "Bob", "admin", "root", "nobody", "image-builder", "jupyterhub", "a", "x1"]
_SEPARATORS = ".-_@+ "
#: lookalikes and compatibility forms: Cyrillic а/е/о, fullwidth, ligatures, combining marks
_TWINS = {"a": ["а", "ａ", "á", "a\u0301"], "e": ["е", "é", "e\u0301"], "o": ["о", "０"]}


def adversarial() -> Iterator[str]:
    """Names chosen to break a naive mapping (see the module's doc)."""
    for base in _BASES:
        yield from (base, base.upper(), base.title(), base.swapcase())
        for sep in _SEPARATORS:
            yield from (f"{base}{sep}x", f"{base}{sep}{sep}x", f"{sep}{base}", f"{base}{sep}")
        for ch, twins in _TWINS.items():
            for twin in twins:
                yield base.replace(ch, twin)
                for form in ("NFC", "NFD", "NFKC", "NFKD"):
                    yield unicodedata.normalize(form, base.replace(ch, twin))
        for length in (31, 32, 33, 48, 49, 63, 64, 65, 200, 1000):
            yield (base * length)[:length]
            yield (base * length)[: length - 1] + "z"
    yield from ("ﬁle", "file", "ǅ", "ß", "ss", "İ", "i̇", "ı", "K", "k", "Å", "Å")
    yield from ("-", "--", "---", "a--b", "a---b", "a---12345678", "xn--abc", "sthree-x")
    yield from ("x-s3alias", "x--ol-s3", "192.168.0.1", "1.2.3.4", ".", "..", "", "a/b", "a\0b")
    yield from reserved_identities()


def reserved_identities() -> Iterator[str]:
    """The platform's own names and prefixes, and usernames shaped to land on them."""
    yield names.EMBEDDED_ADMIN_IAM_USER
    yield names.EMBEDDED_ADMIN_IAM_USER.removeprefix("jupyterhub-ov-")
    yield from (names.MODEL_SERVER_IAM_PREFIX + "resnet", "s3-admin", "ov.s3-admin")
    yield from RESERVED_NAMES
    yield from (HUB_IMAGE_NAME, "ov-hub", "ov-hub-data", "hub-data", "bucket-alice")
    yield from (entry.pw_name for entry in pwd.getpwall())
    tag = "0123456789ab"
    for image in ("x-notebook", "minimal-notebook", "bucket-x-notebook"):
        yield from (f"{image}-{tag}-validate", f"{image}-{tag}-1-build", f"{image}-{tag}-build-pod")
    yield from ("resnet-ovms-5d8f9c7b4-abcde", "x-ovms-5d8f9c7b4-q2w4e", "ovms-7d-abcde")


_PIECES = ["a", "A", "-", ".", "_", "é", "ａ"]


def generated(count: int) -> list[str]:
    """``count`` distinct usernames from hypothesis (a test case per batch; hypothesis repeats
    itself, so it runs until it has enough)."""
    found: dict[str, None] = {}
    # no lone surrogates: a username arrives as UTF-8 (tornado refuses what does not decode)
    alphabet = st.sampled_from("abcxyzABZ019.-_@+ /") | st.characters(exclude_categories=["Cs"])
    text = st.text(alphabet, min_size=1, max_size=80)
    usernames = st.one_of(
        text,
        st.from_regex(r"[a-z][a-z0-9._@+-]{0,70}", fullmatch=True),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(["a", "A", "-", ".", "_", "é", "ａ"]), min_size=1, max_size=70
            ),
        ),
        st.builds(lambda a, b: f"{a}{b}", st.from_regex(r"[a-z]{1,20}", fullmatch=True), text),
    )

    @settings(
        max_examples=max(1, 20 * count // _BATCH),
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(usernames, min_size=_BATCH, max_size=_BATCH, unique=True))
    def collect(batch: list[str]) -> None:
        found.update(dict.fromkeys(batch))
        if len(found) >= count:
            raise _Enough

    try:
        collect()
    except _Enough:
        pass
    return list(found)[:count]


class _Enough(Exception):
    """Ends the hypothesis run that collects names (generation only: nothing to shrink)."""


def users(candidates: list[str]) -> dict[str, set[str]]:
    """The hub users these login names are: normalised, validated by the shipped
    authenticator; ``{username: {login names}}``."""
    from jupyterhub_ov.localauth import TrialAuthenticator

    auth = TrialAuthenticator()
    found: dict[str, set[str]] = defaultdict(set)
    for raw in candidates:
        user = auth.normalize_username(raw)
        if auth.validate_username(user):
            found[user].add(raw)
    return found


Target = tuple[str, Callable[[str], str | None], Callable[[str], str | None]]


def local_targets() -> dict[str, tuple[Callable[[str], str], Callable[[str], str | None]]]:
    """Local mode's names, with the shipped defaults of their prefixes."""
    from jupyterhub_ov.spawners.local import OVLocalSpawner
    from jupyterhub_ov.storage.s3local import LocalBucketProvisioner

    system_prefix = OVLocalSpawner.system_user_prefix.default_value
    bucket_prefix = LocalBucketProvisioner.bucket_prefix.default_value
    iam_prefix = LocalBucketProvisioner.iam_user_prefix.default_value
    return {
        "work directory": (names.directory_name, namerules.path_component_problem),
        "system account": (
            lambda u: names.system_user_name(u, system_prefix),
            namerules.posix_user_problem,
        ),
        "bucket (local S3)": (
            lambda u: names.bucket_name(u, bucket_prefix),
            namerules.s3_bucket_problem,
        ),
        "IAM user (local S3)": (
            lambda u: names.iam_user_name(u, iam_prefix),
            namerules.iam_user_problem,
        ),
    }


def kube_names(usernames: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(user, name) per Kubernetes target, from real OVKubeSpawners, made in a process of
    their own (kubernetes_asyncio reads ``KUBECONFIG`` once, when first imported, and
    KubeSpawner loads it; nothing connects to it)."""
    from jupyterhub_ov_sim.kubeconfig import write_kubeconfig

    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = write_kubeconfig(f"{tmp}/kc", "http://127.0.0.1:9")
        done = subprocess.run(
            [sys.executable, "-m", "reliability.spawnernames"],
            input=json.dumps(usernames),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        )
    return {target: [(u, n) for u, n in pairs] for target, pairs in json.loads(done.stdout).items()}


_KUBE_RULES = {
    "Pod": namerules.dns_label_problem,
    "PersistentVolumeClaim": namerules.dns_subdomain_problem,
    "ObjectBucketClaim": namerules.dns_subdomain_problem,
    "Secret": namerules.dns_subdomain_problem,
    "ConfigMap": namerules.dns_subdomain_problem,
    "bucket (ObjectBucketClaim)": namerules.s3_bucket_problem,
}


def reserved(target: str, name: str) -> str | None:
    """The platform's own object this name would be, per target (None: none)."""
    if target == "IAM user (local S3)":
        if names.is_reserved_iam_user_name(name):
            return "the embedded S3 admin"
        if name.startswith(names.MODEL_SERVER_IAM_PREFIX):
            return "a model server's identity"
    if target == "system account":
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        return None if entry.pw_gecos == ACCOUNT_MARK else f"the machine's account {name}"
    if target == "Pod":
        return namerules.platform_pod(name)
    if target in _KUBE_RULES and name.startswith("jupyterhub-ov"):
        return "deploy/'s objects (jupyterhub-ov*)"
    return None


def check(mapped: dict[str, list[tuple[str, str]]], rules: dict) -> list[Figure]:
    figures = []
    for target, pairs in mapped.items():
        invalid = [(u, n, p) for u, n in pairs if (p := rules[target](n))]
        fold = (lambda n: n.casefold()) if target == "work directory" else (lambda n: n)
        taken = [(u, n, r) for u, n in pairs if (r := reserved(target, n))]
        for u, n, why in (invalid + taken)[:3]:
            print(f"reliability: names: {target}: {u!r} -> {n!r}: {why}")
        figures += [
            zero(NAME, f"{target}: invalid names", len(invalid)),
            zero(NAME, f"{target}: collisions between users", namerules.collisions(
                (u, fold(n)) for u, n in pairs
            )),
            zero(NAME, f"{target}: collisions with reserved names", len(taken)),
        ]  # fmt: skip
    return figures


def run(full: bool) -> list[Figure]:
    candidates = list(adversarial())
    candidates += generated((FULL if full else SHORT) - len(candidates))
    people = users(candidates)
    usernames = sorted(people)
    figures = [
        info(NAME, "login names tried", len(candidates)),
        info(NAME, "hub users they are (normalised, valid)", len(usernames)),
        info(NAME, "login names folded into another's user", len(candidates) - len(usernames)),
    ]
    mapped: dict[str, list[tuple[str, str]]] = {}
    rules: dict[str, Callable[[str], str | None]] = dict(_KUBE_RULES)
    for target, (make, rule) in local_targets().items():
        mapped[target] = [(u, make(u)) for u in usernames]
        rules[target] = rule
    mapped.update(kube_names(usernames))
    return figures + check(mapped, rules)
