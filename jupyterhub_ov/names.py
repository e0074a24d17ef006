"""Pure naming: usernames → DNS-safe slugs, directory names, bucket names, IAM user names,
system account names.

Everything here wraps KubeSpawner's *safe* slug scheme (`kubespawner.slugs.safe_slug`): a
name that is already a valid DNS label is used as is; anything else (upper case, unicode,
`/`, `..`, `--`, too long) becomes ``<readable-part>---<8 hex of sha256>``. A valid label never
contains ``--``, so an escaped name can never equal an unescaped one: distinct usernames
always give distinct slugs.

Reserved identities: IAM user names made here are ``<prefix>-<slug>``, and both prefix
(``^[a-z][a-z0-9-]*$``) and slug only ever contain ``[a-z0-9-]``. The embedded S3 server's own
allow-all identity, `EMBEDDED_ADMIN_IAM_USER`, contains a ``.``, so no hub user, whatever
their name and whatever the configured prefix, maps onto it; it also lives on its own IAM path.
"""

from __future__ import annotations

import hashlib
import re

from kubespawner.slugs import is_valid_default, safe_slug, strip_and_hash

#: S3 limits a bucket name to 63 characters; IAM limits a user name to 64.
BUCKET_NAME_MAX = 63
IAM_USER_NAME_MAX = 64
#: shortest budget strip_and_hash accepts (8 hash + '---' + 1 char)
_MIN_SLUG = 12
#: useradd (shadow-utils) refuses longer account names
SYSTEM_USER_NAME_MAX = 32

#: The embedded S3 server's admin (allow-all) identity and its IAM path. The '.' is a
#: character no prefix or slug contains: `iam_user_name` can never return this.
EMBEDDED_ADMIN_IAM_USER = "jupyterhub-ov.s3-admin"
EMBEDDED_ADMIN_IAM_PATH = "/jupyterhub-ov-admin/"
RESERVED_IAM_USER_NAMES = frozenset({EMBEDDED_ADMIN_IAM_USER})
#: Model servers' own IAM identities (local mode) start with this and live on their own path;
#: it contains a '.', which no user's IAM name has, and is not the admin's prefix.
MODEL_SERVER_IAM_PREFIX = "ovms."
MODEL_SERVER_IAM_PATH = "/jupyterhub-ov-modelservers/"
#: Users' own Kubernetes objects start with this: KubeSpawner's pods ``jupyter-<user slug>``
#: (its pod_name_template), and the bucket claims ``jupyter-bucket-<user slug>`` (with their
#: Secret and ConfigMap). Objects the platform names after what an admin or user asks for
#: (a build's validation and build pods, a model server's Deployment and its pods) must not
#: start with it: a user whose pod name equals such a pod's would take it (KubeSpawner deletes a
#: pod of its name that is in the way, and a build's pod create would fail on the user's).
USER_OBJECT_PREFIX = "jupyter-"
#: The tag that marks a bucket or IAM user as created by jupyterhub-ov for one hub user.
OWNER_TAG_KEY = "jupyterhub-ov:user"
#: Characters IAM and S3 both accept in tag values (letters, numbers, spaces, _.:/=+-@).
_TAG_VALUE = re.compile(r"[\w .:/=+@-]{0,256}")

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_PREFIX = re.compile(r"^[a-z][a-z0-9-]*$")
#: POSIX's portable user names, as Debian's and Red Hat's useradd accept them
SYSTEM_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_BUCKET_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def user_slug(username: str, max_length: int = 63) -> str:
    """The DNS-label-safe, collision-free slug of a username (KubeSpawner's safe scheme)."""
    if max_length < _MIN_SLUG:
        raise ValueError(f"max_length must be at least {_MIN_SLUG}, got {max_length}")
    return safe_slug(username, is_valid=is_valid_default, max_length=max_length)


def directory_name(username: str) -> str:
    """A single path component for a user's work directory.

    Only ``[a-z0-9-]`` can come out, so no ``/``, ``..``, hidden files or case clashes on
    case-insensitive file systems.
    """
    return user_slug(username)


def _check_prefix(prefix: str, budget: int) -> None:
    if not _PREFIX.match(prefix) or "--" in prefix or prefix.endswith("-"):
        raise ValueError(
            f"name prefix {prefix!r} must start with a lowercase letter and contain only"
            " lowercase letters, digits and single hyphens, not ending in a hyphen"
        )
    if budget - len(prefix) - 1 < _MIN_SLUG:
        raise ValueError(f"name prefix {prefix!r} is too long (at most {budget - 1 - _MIN_SLUG})")


def bucket_name(username: str, prefix: str = "jupyter") -> str:
    """The S3 bucket of a user: ``<prefix>-<slug>``, always valid under the S3 naming rules.

    A slug that is a valid DNS label can still end like a name S3 reserves (``-s3alias``);
    such users get the hashed form, which contains ``---`` and so cannot collide.
    """
    _check_prefix(prefix, BUCKET_NAME_MAX)
    budget = BUCKET_NAME_MAX - len(prefix) - 1
    name = f"{prefix}-{user_slug(username, budget)}"
    if bucket_name_problem(name):
        name = f"{prefix}-{strip_and_hash(username, max_length=budget)}"
    problem = bucket_name_problem(name)
    if problem:
        raise ValueError(f"bucket prefix {prefix!r} cannot make valid names: {problem}")
    return name


def iam_user_name(username: str, prefix: str = "jupyterhub-ov") -> str:
    """The IAM identity of a user's bucket credentials: never a reserved name."""
    _check_prefix(prefix, IAM_USER_NAME_MAX)
    name = f"{prefix}-{user_slug(username, IAM_USER_NAME_MAX - len(prefix) - 1)}"
    if is_reserved_iam_user_name(name):  # cannot happen ('.' never appears); stated, tested
        raise ValueError(f"user {username!r} would map onto the reserved IAM user {name!r}")
    return name


def model_server_iam_name(server: str) -> str:
    """The IAM identity of local ModelServer ``server`` (a DNS label): ``ovms.<server>``.

    Never a user's (`iam_user_name` gives only ``[a-z0-9-]``, no ``.``) nor the admin's
    (``jupyterhub-ov.s3-admin`` does not start with ``ovms.``). A name too long for IAM's 64
    characters is cut and hashed as ``ovms.<start>.<8 hex>``: two dots, where an uncut one has
    one (a DNS label has none), so distinct servers never share an identity.
    """
    name = MODEL_SERVER_IAM_PREFIX + server
    if len(name) <= IAM_USER_NAME_MAX and "." not in server:
        return name
    digest = hashlib.sha256(server.encode()).hexdigest()[:8]
    keep = IAM_USER_NAME_MAX - len(MODEL_SERVER_IAM_PREFIX) - 9
    return f"{MODEL_SERVER_IAM_PREFIX}{server[:keep].replace('.', '-')}.{digest}"


def is_reserved_iam_user_name(name: str) -> bool:
    """Whether ``name`` is an identity no hub user may be given (the embedded admin)."""
    return name in RESERVED_IAM_USER_NAMES


def user_object_prefix_problem(name: str) -> str | None:
    """Why the platform must not name an object of its own ``name`` (None: it may)."""
    if name.startswith(USER_OBJECT_PREFIX):
        return (
            f"must not start with {USER_OBJECT_PREFIX!r}: users' notebook pods and bucket claims"
            f" are named {USER_OBJECT_PREFIX}<user>"
        )
    return None


def owner_tag_value(username: str) -> str:
    """The `OWNER_TAG_KEY` value for a user's bucket and IAM user: the hub username itself
    when IAM and S3 accept it as a tag value, else its slug (always accepted)."""
    if _TAG_VALUE.fullmatch(username):
        return username
    return user_slug(username)


def system_user_name(username: str, prefix: str = "jupyter-") -> str:
    """The system account a user's local server runs as: ``<prefix><slug>``.

    The Littlest JupyterHub's convention (``jupyter-<name>``). Distinct usernames give distinct
    slugs, so distinct accounts; the prefix keeps every account apart from the machine's own
    (``root``, ``daemon``, the hub's), which never start with it.
    """
    if not (prefix.endswith("-") and _PREFIX.match(prefix) and "--" not in prefix):
        raise ValueError(
            f"system user prefix {prefix!r} must start with a lowercase letter, contain only"
            " lowercase letters, digits and single hyphens, and end with a hyphen"
        )
    budget = SYSTEM_USER_NAME_MAX - len(prefix)
    if budget < _MIN_SLUG:
        raise ValueError(
            f"system user prefix {prefix!r} is too long (at most"
            f" {SYSTEM_USER_NAME_MAX - _MIN_SLUG} characters)"
        )
    return prefix + user_slug(username, budget)


def object_name(username: str, prefix: str) -> str:
    """A Kubernetes object name (DNS label) for a user's object: ``<prefix>-<slug>``.

    Deterministic, so a restarted hub finds the same claim; distinct users never share one.
    """
    _check_prefix(prefix, 63)
    return f"{prefix}-{user_slug(username, 63 - len(prefix) - 1)}"


def object_name_owner(name: str, prefix: str) -> str | None:
    """The user whose `object_name` with ``prefix`` is ``name``, when that user's name is its
    own slug (a valid DNS label, as ``alice``); None otherwise (no such name, or a hashed
    slug, which cannot be turned back into the username)."""
    start = prefix + "-"
    if not name.startswith(start):
        return None
    user = name[len(start) :]
    if not user or user_slug(user, 63 - len(start)) != user:
        return None
    return user


def generate_bucket_name(username: str, prefix: str = "jupyter") -> str:
    """An ObjectBucketClaim ``generateBucketName``: the provisioner appends ``-<uuid>`` (37
    characters), so this stays within 26 to keep the bucket name within S3's 63."""
    _check_prefix(prefix, 27)
    return f"{prefix}-{user_slug(username, 26 - len(prefix) - 1)}"


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name (general purpose buckets), or None."""
    if not _BUCKET_NAME.match(name):
        return (
            f"bucket name {name!r} must be 3-63 characters of lowercase letters, digits, dots"
            " and hyphens, starting and ending with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        return f"bucket name {name!r} must not contain '..', '.-' or '-.'"
    if _IPV4.match(name):
        return f"bucket name {name!r} must not look like an IP address"
    if name.startswith(_BUCKET_FORBIDDEN_PREFIXES) or name.endswith(_BUCKET_FORBIDDEN_SUFFIXES):
        return f"bucket name {name!r} uses a prefix or suffix S3 reserves"
    return None
