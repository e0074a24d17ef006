"""Table tests of every ODH dashboard rule the menu honours (images.odh), malformed values
included: a bad value is skipped with one warning, never an exception."""

import json

import pytest

from jupyterhub_ov import menu
from jupyterhub_ov.images import model, odh


@pytest.mark.parametrize(
    "labels, disabled",
    [
        ({odh.LABEL_NOTEBOOK_IMAGE: "false"}, True),
        ({odh.LABEL_NOTEBOOK_IMAGE: " False "}, True),
        ({odh.LABEL_NOTEBOOK_IMAGE: "true"}, False),
        ({odh.LABEL_NOTEBOOK_IMAGE: ""}, False),
        ({odh.LABEL_NOTEBOOK_IMAGE: 0}, False),  # not a string: no opinion
        ({}, False),
    ],
)
def test_label_false_disables(labels, disabled):
    assert odh.disabled_by_label(labels) is disabled
    stream = {"metadata": {"name": "x-notebook", "labels": labels}}
    assert model.is_notebook_stream(stream) is not disabled  # the name rule included


@pytest.mark.parametrize(
    "value, hidden",
    [("true", True), ("TRUE", True), ("false", False), ("", False), (None, False), (1, False)],
)
def test_hidden(value, hidden):
    assert odh.hidden({odh.ANN_HIDDEN: value}) is hidden


@pytest.mark.parametrize(
    "annotations, recommended",
    [
        ({odh.ANN_WORKBENCH_RECOMMENDED: "true"}, True),
        ({odh.ANN_LEGACY_RECOMMENDED: "true"}, True),
        ({odh.ANN_WORKBENCH_RECOMMENDED: "false", odh.ANN_LEGACY_RECOMMENDED: "true"}, True),
        ({odh.ANN_WORKBENCH_RECOMMENDED: "yes"}, False),
        ({odh.ANN_WORKBENCH_RECOMMENDED: ["true"]}, False),
        ({}, False),
    ],
)
def test_recommended(annotations, recommended):
    assert odh.recommended(annotations) is recommended


@pytest.mark.parametrize(
    "value, outdated",
    [("true", True), ("2024-01-01", True), ("false", True), ("", False), ("  ", False)]
    + [(None, False)],
)
def test_outdated_is_any_non_empty_value(value, outdated):
    assert odh.outdated({odh.ANN_OUTDATED: value}) is outdated


@pytest.mark.parametrize(
    "value, shown, warned",
    [
        ("0a1b2c3", "0a1b2c3", False),
        (None, None, False),
        ("", None, False),
        ("x" * 101, None, True),
        ("abc\ndef", None, True),
        (12345, None, True),
    ],
)
def test_build_commit(value, shown, warned):
    warnings: list[str] = []
    assert odh.build_commit({odh.ANN_BUILD_COMMIT: value}, warnings) == shown
    assert len(warnings) == int(warned)


@pytest.mark.parametrize(
    "value, shown, warned",
    [
        ('["nvidia.com/gpu"]', ("nvidia.com/gpu",), False),
        (
            '["nvidia.com/gpu", "nvidia.com/gpu", "amd.com/gpu"]',
            ("nvidia.com/gpu", "amd.com/gpu"),
            False,
        ),
        ("[]", (), False),
        (None, (), False),
        ("nvidia.com/gpu", (), True),  # not JSON
        ('{"a": 1}', (), True),
        ("[1, 2]", (), True),
        (json.dumps(["x" * 200]), (), True),
    ],
)
def test_accelerators(value, shown, warned):
    warnings: list[str] = []
    assert odh.accelerators({odh.ANN_ACCELERATORS: value}, warnings) == shown
    assert len(warnings) == int(warned)


@pytest.mark.parametrize(
    "status, errors",
    [
        (
            {"tags": [{"tag": "1.0", "conditions": [{"status": "False", "message": "not found"}]}]},
            ("1.0: not found",),
        ),
        ({"tags": [{"tag": "1.0", "conditions": [{"status": "True", "message": "ok"}]}]}, ()),
        (
            {"tags": [{"tag": "1.0", "conditions": [{"status": "False", "reason": "Gone"}]}]},
            ("1.0: Gone",),
        ),
        ({"tags": [{"tag": "1.0", "conditions": "broken"}]}, ()),
        ({"tags": ["x", None, {"conditions": [None, 3]}]}, ()),
        ({"tags": "nope"}, ()),
        ("status", ()),
        (None, ()),
    ],
)
def test_import_errors(status, errors):
    assert odh.import_errors(status) == errors


def build(name, phase, *, number=None, to="s-notebook:1", labels=None, into=None):
    meta = {"name": name, "namespace": "ns", "labels": labels or {}, "annotations": {}}
    if number is not None:
        meta["annotations"][odh.ANN_BUILD_NUMBER] = str(number)
    output = {"to": {"kind": "ImageStreamTag", "name": to}} if to else {}
    if into:
        output["to"]["namespace"] = into
    return {"metadata": meta, "spec": {"output": output}, "status": {"phase": phase}}


@pytest.mark.parametrize(
    "builds, blocked",
    [
        ([build("b-1", "Running", number=1)], {("ns", "s-notebook:1"): "Running"}),
        ([build("b-1", "Complete", number=1)], {}),
        (  # the newest Build speaks: a failed old one does not block a completed new one
            [build("b-1", "Failed", number=1), build("b-2", "Complete", number=2)],
            {},
        ),
        (
            [build("b-2", "Complete", number=2), build("b-3", "Cancelled", number=3)],
            {("ns", "s-notebook:1"): "Cancelled"},
        ),
        *[
            ([build("b", phase, number=1)], {("ns", "s-notebook:1"): phase})
            for phase in ("New", "Pending", "Error")
        ],
        ([build("b", "Running", to="other", number=1)], {}),  # not an ImageStreamTag name
        ([build("b", "Running", to=None)], {}),  # no output
        (  # output into another namespace
            [build("b", "Running", number=1, into="images")],
            {("images", "s-notebook:1"): "Running"},
        ),
        ([build("b", "Running", number=1) | {"status": "x"}], {("ns", "s-notebook:1"): "New"}),
        ([build("b", "Running", number="x")], {("ns", "s-notebook:1"): "Running"}),
        (["not a build", {"metadata": "x"}, {"spec": {"output": {"to": "x"}}}], {}),
    ],
)
def test_blocked_tags(builds, blocked):
    assert odh.blocked_tags(builds) == blocked


def test_build_type_label_or_output_makes_a_notebook_build():
    labelled = build("b", "Running", to=None, labels={odh.LABEL_BUILD_TYPE: "notebook_image"})
    assert odh.is_notebook_build(labelled) and odh.is_notebook_build(build("c", "Running"))
    assert not odh.is_notebook_build(build("d", "Running", to=None))


def stream(tag_annotations=None, annotations=None, status_extra=None):
    return {
        "metadata": {"name": "s-notebook", "namespace": "ns", "annotations": annotations or {}},
        "spec": {
            "tags": [
                {"name": "1", "annotations": (tag_annotations or {}).get("1", {})},
                {"name": "2", "annotations": (tag_annotations or {}).get("2", {})},
            ]
        },
        "status": {
            "dockerImageRepository": "r/ns/s",
            "tags": [{"tag": "1", "items": [{}]}, {"tag": "2", "items": [{}]}]
            + (status_extra or []),
        },
    }


def test_the_parsed_image_carries_every_rule():
    image = model.parse_image_stream(
        stream(
            {
                "1": {odh.ANN_OUTDATED: "true", odh.ANN_BUILD_COMMIT: "abc"},
                "2": {odh.ANN_WORKBENCH_RECOMMENDED: "true", odh.ANN_BUILD_COMMIT: "x\ny"},
            },
            {odh.ANN_HIDDEN: "false", odh.ANN_ACCELERATORS: '["nvidia.com/gpu"]'},
            [{"tag": "3", "conditions": [{"status": "False", "message": "no such image"}]}],
        )
    )
    one, two = image.tags
    assert one.outdated and one.build_commit == "abc" and not two.outdated
    assert two.recommended and two.build_commit is None
    assert image.offered_tags == (two,) and model.preferred_tag(image) is two
    assert image.accelerators == ("nvidia.com/gpu",) and image.visible
    assert image.import_errors == ("3: no such image",)
    assert len(image.warnings) == 1 and "tag 2" in image.warnings[0]


def test_outdated_tags_are_not_offered_but_a_saved_one_still_starts():
    image = model.parse_image_stream(
        stream({"1": {odh.ANN_OUTDATED: "yes"}, "2": {odh.ANN_OUTDATED: "yes"}})
    )
    other = model.parse_image_stream(stream() | {"metadata": {"name": "t-notebook"}})
    assert model.default_choice([image, other])[0] is other  # nothing of image is offered
    choice = menu.resolve_choice([image, other], "ns/s-notebook:1")
    assert choice.tag.name == "1" and choice.note is None  # honoured for who runs it
    page = menu.render_menu([image, other], "ns/s-notebook:1")
    assert "is outdated: it still starts" in page
    data = menu.menu_data([image, other])
    assert [row[0] for row in data["im"]] == ["t-notebook"]  # not offered to new starts


def test_hidden_stream_is_not_visible():
    assert not model.parse_image_stream(stream(annotations={odh.ANN_HIDDEN: "true"})).visible
