import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyterhub_ov import names

# adversarial usernames: unicode, separators, traversal, case, length, S3-reserved shapes
usernames = st.one_of(
    st.text(min_size=0, max_size=300),
    st.text(alphabet=string.ascii_letters + string.digits + "-._/@ ", max_size=120),
    st.builds(lambda a, b: f"{a}--{b}", st.text(max_size=20), st.text(max_size=20)),
    st.sampled_from(
        ["..", ".", "../../etc/passwd", "a-s3alias", "xn--abc", "sthree-x", "a--ol-s3"]
    ),
    st.from_regex(r"[a-z][a-z0-9-]{0,70}", fullmatch=True),
)


@pytest.mark.parametrize(
    "username, slug",
    [
        ("alice", "alice"),
        ("Alice", "alice---3bc51062"),
        ("../etc", "etc---f7f9121f"),
        ("a/b", "a-b---c14cddc0"),
        ("x--y", "x-y---6484a281"),
        ("1abc", "x-1abc---57cb980e"),
        ("", "x---e3b0c442"),
    ],
)
def test_directory_name_table(username, slug):
    assert names.directory_name(username) == slug


@pytest.mark.parametrize(
    "username, bucket",
    [
        ("alice", "jupyter-alice"),
        ("Alice", "jupyter-alice---3bc51062"),
        # valid as a label, but S3 reserves the -s3alias suffix: hashed instead
        ("a-s3alias", "jupyter-a-s3alias---bc1e249a"),
        ("a" * 80, "jupyter-" + "a" * 44 + "---0f45e858"),
    ],
)
def test_bucket_name_table(username, bucket):
    assert names.bucket_name(username) == bucket
    assert names.bucket_name_problem(bucket) is None


@pytest.mark.parametrize(
    "name, problem",
    [
        ("ab", "3-63 characters"),
        ("Abc", "3-63 characters"),
        ("-abc", "3-63 characters"),
        ("a" * 64, "3-63 characters"),
        ("a..b", "'..'"),
        ("a.-b", "'..'"),
        ("192.168.1.1", "IP address"),
        ("xn--abc", "reserves"),
        ("abc-s3alias", "reserves"),
        ("abc--ol-s3", "reserves"),
        ("sthree-abc", "reserves"),
        ("my-bucket.data", None),
    ],
)
def test_bucket_name_problem(name, problem):
    found = names.bucket_name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    "prefix", ["", "Jupyter", "1x", "a_b", "a--b", "ends-", "x" * 60, "sthree"]
)
def test_bad_prefix_is_refused(prefix):
    with pytest.raises(ValueError, match="prefix"):
        names.bucket_name("alice", prefix)


@settings(max_examples=3000, deadline=None)
@given(usernames)
def test_every_username_maps_to_valid_names(username):
    directory = names.directory_name(username)
    assert directory and len(directory) <= 63
    assert set(directory) <= set(string.ascii_lowercase + string.digits + "-")
    assert directory not in (".", "..") and "/" not in directory
    bucket = names.bucket_name(username)
    assert names.bucket_name_problem(bucket) is None, bucket
    iam = names.iam_user_name(username)
    assert 1 <= len(iam) <= names.IAM_USER_NAME_MAX


@settings(max_examples=3000, deadline=None)
@given(st.lists(usernames, min_size=2, max_size=6, unique=True))
def test_distinct_usernames_never_collide(users):
    for make in (names.directory_name, names.bucket_name, names.iam_user_name):
        made = [make(u) for u in users]
        assert len(set(made)) == len(users), (make.__name__, users, made)


@pytest.mark.parametrize(
    "username, claim, generate",
    [
        ("alice", "jupyter-bucket-alice", "jupyter-alice"),
        ("Alice", "jupyter-bucket-alice---3bc51062", "jupyter-alice---3bc51062"),
        ("a" * 30, "jupyter-bucket-" + "a" * 30, "jupyter-aaaaaaa---3a54fc0c"),
    ],
)
def test_claim_names(username, claim, generate):
    assert names.object_name(username, "jupyter-bucket") == claim
    assert names.generate_bucket_name(username) == generate
    # what NooBaa makes of it is still a valid bucket name
    assert names.bucket_name_problem(generate + "-" + "0" * 36) is None


@settings(max_examples=1000, deadline=None)
@given(st.lists(usernames, min_size=2, max_size=6, unique=True))
def test_claim_names_valid_and_distinct(users):
    claims = [names.object_name(u, "jupyter-bucket") for u in users]
    assert len(set(claims)) == len(users)
    for claim in claims:
        assert len(claim) <= 63 and claim == claim.lower() and "--" not in claim.split("---")[0]
    for u in users:
        assert len(names.generate_bucket_name(u)) <= 26


@pytest.mark.parametrize(
    "username, account",
    [
        ("alice", "jupyter-alice"),
        ("admin", "jupyter-admin"),
        ("root", "jupyter-root"),
        ("Zoë/../x", "jupyter-zo-x---3be53085"),
        ("a" * 40, "jupyter-aaaaaaaaaaaaa---e33cdf9c"),
    ],
)
def test_system_user_name_table(username, account):
    assert names.system_user_name(username) == account


@settings(max_examples=500)
@given(usernames, usernames)
def test_system_user_names_are_posix_and_never_collide(a, b):
    name_a = names.system_user_name(a)
    assert names.SYSTEM_USER_NAME.match(name_a) and len(name_a) <= 32
    assert name_a.startswith("jupyter-")  # never a machine account such as root or daemon
    if a != b:
        assert name_a != names.system_user_name(b)


@pytest.mark.parametrize("prefix", ["jupyter", "Jupyter-", "-x-", "a--b-", "x" * 21 + "-", ""])
def test_system_user_prefix_must_be_sane(prefix):
    with pytest.raises(ValueError, match="system user prefix"):
        names.system_user_name("alice", prefix)


# every prefix the provisioner accepts (its validator: a valid bucket_name/iam_user_name prefix)
prefixes = st.one_of(
    st.just("jupyterhub-ov"),
    st.from_regex(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,30}", fullmatch=True),
)
adversarial_usernames = [
    "admin",
    "Admin",
    "ADMIN",
    "provisioner",
    "s3-admin",
    "root",
    names.EMBEDDED_ADMIN_IAM_USER,
    names.EMBEDDED_ADMIN_IAM_USER.upper(),
    "jupyterhub-ov-admin",
    "jupyterhub-ov-s3-admin",
    ".s3-admin",
    "s3\u2024admin",  # ONE DOT LEADER, looks like '.'
    "ｓ３-admin",  # fullwidth
    "jupyterhub-ov\uff0es3-admin",  # fullwidth full stop
    "admin\n",
    "",
]


@pytest.mark.parametrize("username", adversarial_usernames)
@pytest.mark.parametrize("prefix", ["jupyterhub-ov", "jupyterhub", "jupyterhub-ov-s3", "x"])
def test_adversarial_usernames_never_get_a_reserved_identity(username, prefix):
    name = names.iam_user_name(username, prefix)
    assert not names.is_reserved_iam_user_name(name)
    assert name != names.EMBEDDED_ADMIN_IAM_USER and "." not in name


def test_reserved_name_is_one_no_prefix_or_slug_can_spell():
    # the guarantee rests on this: user IAM names are [a-z0-9-] only, the reserved one is not
    assert names.is_reserved_iam_user_name(names.EMBEDDED_ADMIN_IAM_USER)
    assert not set(names.EMBEDDED_ADMIN_IAM_USER) <= set(
        string.ascii_lowercase + string.digits + "-"
    )
    with pytest.raises(ValueError, match="prefix"):
        names.iam_user_name("s3-admin", "jupyterhub-ov.")


@settings(max_examples=3000, deadline=None)
@given(st.one_of(usernames, st.sampled_from(adversarial_usernames)), prefixes)
def test_no_username_and_prefix_map_to_a_reserved_identity(username, prefix):
    name = names.iam_user_name(username, prefix)
    assert not names.is_reserved_iam_user_name(name)
    assert set(name) <= set(string.ascii_lowercase + string.digits + "-")


@pytest.mark.parametrize(
    "username, value",
    [
        ("alice", "alice"),
        ("Alice Smith", "Alice Smith"),
        ("a.b@example.org", "a.b@example.org"),
        ("jörg", "jörg"),
        ("o'brien", "o-brien---65b87174"),
        ("a\nb", "a-b---7e18f737"),
        ("x" * 257, names.user_slug("x" * 257)),
    ],
)
def test_owner_tag_value(username, value):
    assert names.owner_tag_value(username) == value


# model servers' own IAM identities (local mode): DNS labels, as the ModelServer's name is
server_names = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)


@pytest.mark.parametrize(
    "server, identity",
    [
        ("resnet", "ovms.resnet"),
        ("my-ovms", "ovms.my-ovms"),
        ("a" * 59, "ovms." + "a" * 59),
    ],
)
def test_model_server_iam_name_table(server, identity):
    assert names.model_server_iam_name(server) == identity


def test_long_model_server_names_are_cut_and_hashed_apart():
    a, b = "x" * 60, "x" * 61
    assert len(names.model_server_iam_name(a)) <= names.IAM_USER_NAME_MAX
    assert names.model_server_iam_name(a) != names.model_server_iam_name(b)
    assert names.model_server_iam_name(a).count(".") == 2


@settings(max_examples=2000, deadline=None)
@given(server_names, st.one_of(usernames, st.sampled_from(adversarial_usernames)), prefixes)
def test_a_model_server_identity_is_never_a_users_or_the_admins(server, username, prefix):
    identity = names.model_server_iam_name(server)
    assert len(identity) <= names.IAM_USER_NAME_MAX
    assert identity != names.iam_user_name(username, prefix)
    assert not names.is_reserved_iam_user_name(identity)
    assert identity != names.EMBEDDED_ADMIN_IAM_USER


@settings(max_examples=500, deadline=None)
@given(st.lists(server_names, min_size=2, max_size=6, unique=True))
def test_distinct_model_servers_never_share_an_identity(servers):
    assert len({names.model_server_iam_name(s) for s in servers}) == len(servers)


@pytest.mark.parametrize(
    "claim, owner",
    [
        ("jupyter-bucket-alice", "alice"),
        ("jupyter-bucket-bob-2", "bob-2"),
        ("jupyter-bucket-alice---3bc51062", None),  # Alice: a hashed slug
        ("other-alice", None),
        ("jupyter-bucket-", None),
    ],
)
def test_the_owner_of_a_claim_name(claim, owner):
    assert names.object_name_owner(claim, "jupyter-bucket") == owner


@given(usernames)
def test_a_claim_name_leads_back_to_its_user_or_to_no_one(username):
    found = names.object_name_owner(names.object_name(username, "jupyter-bucket"), "jupyter-bucket")
    assert found in (username, None)
    if names.user_slug(username) == username:
        assert found == username


@pytest.mark.parametrize(
    "name, refused",
    [("jupyter-x-notebook-0123456789ab-validate", True), ("jupyter", False), ("x-jupyter-", False)],
)
def test_the_users_object_prefix_is_kept_from_the_platform(name, refused):
    assert (names.user_object_prefix_problem(name) is not None) is refused


@given(usernames)
def test_every_users_pod_and_claim_starts_with_the_users_prefix(username):
    assert names.object_name(username, "jupyter-bucket").startswith(names.USER_OBJECT_PREFIX)
