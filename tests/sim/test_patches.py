# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""The patch algorithms as tables (RFC 7386 and RFC 6902 examples, strategic merge subset)."""

from __future__ import annotations

import pytest
from jupyterhub_ov_sim.errors import ApiError
from jupyterhub_ov_sim.patches import apply_patch, json_patch, merge_patch, strategic_merge_patch


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [  # from RFC 7386, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch(original: dict, patch: dict, expected: dict) -> None:
    assert merge_patch(original, patch) == expected


@pytest.mark.parametrize(
    ("original", "ops", "expected"),
    [  # from RFC 6902, appendix A
        (
            {"foo": "bar"},
            [{"op": "add", "path": "/baz", "value": "qux"}],
            {"foo": "bar", "baz": "qux"},
        ),
        (
            {"foo": ["bar", "baz"]},
            [{"op": "add", "path": "/foo/1", "value": "qux"}],
            {"foo": ["bar", "qux", "baz"]},
        ),
        ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": "x"}], {"foo": ["bar", "x"]}),
        ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
        (
            {"foo": ["bar", "qux", "baz"]},
            [{"op": "remove", "path": "/foo/1"}],
            {"foo": ["bar", "baz"]},
        ),
        ({"baz": "qux"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo"}),
        (
            {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
            [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
            {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        ),
        (
            {"foo": ["all", "grass", "cows", "eat"]},
            [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
            {"foo": ["all", "cows", "eat", "grass"]},
        ),
        (
            {"a": {"b": 1}},
            [{"op": "copy", "from": "/a", "path": "/c"}],
            {"a": {"b": 1}, "c": {"b": 1}},
        ),
        (
            {"m": {"a/b": 1, "c~d": 2}},
            [{"op": "remove", "path": "/m/a~1b"}, {"op": "remove", "path": "/m/c~0d"}],
            {"m": {}},
        ),
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "qux"}], {"baz": "qux"}),
    ],
)
def test_json_patch(original: dict, ops: list, expected: dict) -> None:
    assert json_patch(original, ops) == expected


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        ([{"op": "test", "path": "/baz", "value": "bar"}], 422),
        ([{"op": "remove", "path": "/missing"}], 422),
        ([{"op": "add", "path": "/a/b/c", "value": 1}], 422),
        ([{"op": "replace", "path": "/missing", "value": 1}], 422),
        ([{"op": "frobnicate", "path": "/baz"}], 400),
        ([{"op": "add", "value": 1}], 400),
        ({"op": "add"}, 400),
    ],
)
def test_json_patch_errors(ops: object, code: int) -> None:
    original = {"baz": "qux"}
    with pytest.raises(ApiError) as caught:
        json_patch(original, ops)
    assert caught.value.code == code
    assert original == {"baz": "qux"}


POD_SPEC = {
    "containers": [
        {
            "name": "a",
            "image": "1",
            "env": [{"name": "X", "value": "1"}],
            "volumeMounts": [{"name": "home", "mountPath": "/home"}],
        },
        {"name": "b", "image": "2"},
    ],
    "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "c"}}],
    "tolerations": [{"key": "t"}],
}


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        (
            {"containers": [{"name": "a", "image": "9"}]},
            lambda r: (
                [(c["name"], c["image"]) for c in r["containers"]] == [("a", "9"), ("b", "2")]
            ),
        ),
        (
            {"containers": [{"name": "c", "image": "3"}]},
            lambda r: [c["name"] for c in r["containers"]] == ["a", "b", "c"],
        ),
        (
            {"containers": [{"name": "b", "$patch": "delete"}]},
            lambda r: [c["name"] for c in r["containers"]] == ["a"],
        ),
        (
            {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}]},
            lambda r: [e["name"] for e in r["containers"][0]["env"]] == ["X", "Y"],
        ),
        (
            {
                "containers": [
                    {"name": "a", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
                ]
            },
            lambda r: (
                [m["mountPath"] for m in r["containers"][0]["volumeMounts"]] == ["/home", "/data"]
            ),
        ),
        (
            {"volumes": [{"name": "home", "emptyDir": {}}]},
            lambda r: (
                r["volumes"]
                == [{"name": "home", "persistentVolumeClaim": {"claimName": "c"}, "emptyDir": {}}]
            ),
        ),
        ({"tolerations": [{"key": "u"}]}, lambda r: r["tolerations"] == [{"key": "u"}]),
        (
            {"containers": [{"name": "z"}, {"$patch": "replace"}]},
            lambda r: r["containers"] == [{"name": "z"}],
        ),
        ({"$patch": "replace", "containers": []}, lambda r: r == {"containers": []}),
        ({"volumes": None}, lambda r: "volumes" not in r),
    ],
)
def test_strategic_merge_patch(patch: dict, check: object) -> None:
    result = strategic_merge_patch(POD_SPEC, patch)
    assert check(result)  # type: ignore[operator]
    assert len(POD_SPEC["containers"]) == 2  # the original is never modified


def test_strategic_merge_of_finalizers() -> None:
    original = {"metadata": {"finalizers": ["a", "b"]}}
    added = strategic_merge_patch(original, {"metadata": {"finalizers": ["c", "a"]}})
    assert added["metadata"]["finalizers"] == ["a", "b", "c"]
    removed = strategic_merge_patch(
        original, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    )
    assert removed["metadata"]["finalizers"] == ["b"]


def test_service_ports_merge_by_port() -> None:
    original = {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}
    result = strategic_merge_patch(original, {"ports": [{"port": 443, "targetPort": 8443}]})
    assert result["ports"][1] == {"port": 443, "name": "https", "targetPort": 8443}


@pytest.mark.parametrize(
    ("content_type", "code"),
    [("application/apply-patch+yaml", 415), ("text/plain", 415)],
)
def test_unknown_patch_types(content_type: str, code: int) -> None:
    with pytest.raises(ApiError) as caught:
        apply_patch({}, {}, content_type)
    assert caught.value.code == code


def test_content_type_parameters_are_ignored() -> None:
    assert apply_patch({"a": 1}, {"b": 2}, "application/merge-patch+json; charset=utf-8") == {
        "a": 1,
        "b": 2,
    }
