import pytest

from jupyterhub_ov import connections as c


def meta(name="conn", labels=None, **ann):
    base = {c.ANN_TYPE_REF: "s3", c.ANN_DISPLAY: "Team bucket"}
    return {
        "name": name,
        "labels": {c.LABEL_DASHBOARD: "true"} if labels is None else labels,
        "annotations": {k: v for k, v in (base | ann).items() if v is not None},
    }


@pytest.mark.parametrize(
    "metadata, expected",
    [
        (meta(), c.Connection("conn", "Team bucket", frozenset(), frozenset())),
        (meta(**{c.ANN_TYPE_REF: None, c.ANN_TYPE_LEGACY: "s3"}), "conn"),  # older annotation
        (meta(**{c.ANN_TYPE_REF: "S3 "}), "conn"),
        (meta(**{c.ANN_TYPE_REF: "uri"}), None),  # another connection type
        (meta(**{c.ANN_TYPE_REF: None}), None),
        (meta(labels={}), None),  # not the dashboard's
        (meta(labels={c.LABEL_DASHBOARD: "false"}), None),
        (meta(**{c.ANN_DISPLAY: None}), "conn"),
        ({"name": "x", "labels": "nope", "annotations": {}}, None),
        ({"labels": {}, "annotations": {}}, None),
        ("not metadata", None),
    ],
)
def test_parse_connection(metadata, expected):
    found = c.parse_connection(metadata)
    if isinstance(expected, str):
        assert found is not None and found.name == expected
    else:
        assert found == expected


@pytest.mark.parametrize(
    "annotations, user, groups, granted",
    [
        ({}, "alice", (), False),  # nobody unless named
        ({c.ANN_USERS: "alice, bob"}, "alice", (), True),
        ({c.ANN_USERS: "alice, bob"}, "carol", (), False),
        ({c.ANN_USERS: "alicex"}, "alice", (), False),  # whole names only
        ({c.ANN_GROUPS: "data-team"}, "carol", ("data-team",), True),
        ({c.ANN_GROUPS: "data-team"}, "carol", ("other",), False),
        ({c.ANN_USERS: "*"}, "anyone", (), True),
        ({c.ANN_GROUPS: "*"}, "anyone", (), True),
        ({c.ANN_USERS: ["alice"]}, "alice", (), False),  # malformed: grants nobody
    ],
)
def test_grants(annotations, user, groups, granted):
    connection = c.parse_connection(meta(**annotations))
    assert connection is not None and connection.granted_to(user, groups) is granted
    assert (c.granted([connection], user, groups) == [connection]) is granted


def test_env_from_refuses_what_was_not_offered():
    mine = [c.parse_connection(meta("a", **{c.ANN_USERS: "alice"}))]
    assert c.env_from(["a", "a"], mine) == [{"secretRef": {"name": "a"}}]
    with pytest.raises(ValueError, match="Connection 'b' is not available to you."):
        c.env_from(["a", "b"], mine)
    assert c.env_from([], mine) == []


@pytest.mark.parametrize(
    "value, names",
    [
        (None, []),
        ([], []),
        (["a", "b", "a"], ["a", "b"]),
        ("a", ValueError),  # one string is not a list of names
        ([""], ValueError),
        ([1], ValueError),
        ({"a": 1}, ValueError),
    ],
)
def test_requested(value, names):
    if names is ValueError:
        with pytest.raises(ValueError, match="list of connection names"):
            c.requested(value)
    else:
        assert c.requested(value) == names
