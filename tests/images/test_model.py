import json

import pytest

from jupyterhub_ov.images import model


def stream(name="py-notebook", ann=None, labels=None, tags=("latest",), status_tags=None, **extra):
    spec_tags = [{"name": t, "annotations": {}} if isinstance(t, str) else t for t in tags]
    status = status_tags
    if status is None:
        status = [
            {"tag": t["name"], "items": [{"dockerImageReference": f"reg/ns/{name}@sha256:{i}"}]}
            for i, t in enumerate(spec_tags)
        ]
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "annotations": ann or {},
            "labels": labels or {},
        },
        "spec": {"tags": spec_tags},
        "status": {"dockerImageRepository": f"reg/ns/{name}", "tags": status},
        **extra,
    }


@pytest.mark.parametrize(
    "obj, by_name, by_label, expected",
    [
        (stream("a-notebook"), True, True, True),
        (stream("a-notebook"), False, True, False),
        (stream("plain", labels={model.NOTEBOOK_IMAGE_LABEL: "true"}), True, True, True),
        (stream("plain", labels={model.NOTEBOOK_IMAGE_LABEL: "True"}), False, True, True),
        (stream("plain", labels={model.NOTEBOOK_IMAGE_LABEL: "true"}), True, False, False),
        (stream("plain", labels={model.NOTEBOOK_IMAGE_LABEL: "false"}), True, True, False),
        (stream("notebook-x"), True, True, False),
        ({}, True, True, False),
    ],
)
def test_discovery_rules(obj, by_name, by_label, expected):
    assert model.is_notebook_stream(obj, by_name=by_name, by_label=by_label) is expected


def test_full_annotations_are_parsed():
    software = [{"name": "Python", "version": "3.11"}, {"name": "CUDA", "version": "12"}]
    deps = [{"name": "numpy", "version": "2.1"}]
    tag = {
        "name": "2024.1",
        "annotations": {
            model.ANN_SOFTWARE: json.dumps(software),
            model.ANN_DEPENDENCIES: json.dumps(deps),
            model.ANN_RECOMMENDED: "true",
            model.ANN_DEFAULT: "true",
            model.ANN_IMPORTED_FROM: "quay.io/x/y",
        },
    }
    messages = [{"severity": "info", "message": "validated"}]
    image = model.parse_image_stream(
        stream(
            "sci-notebook",
            ann={
                model.ANN_NAME: "Science",
                model.ANN_DESC: "Numbers",
                model.ANN_URL: "https://example.org/sci",
                model.ANN_ORDER: "7",
                model.ANN_CREATOR: "ada",
                model.ANN_PHASE: "Succeeded",
                model.ANN_MESSAGES: json.dumps(messages),
            },
            labels={model.LABEL_CREATED_BY: "byon"},
            tags=[tag],
        )
    )
    assert image == model.NotebookImage(
        name="sci-notebook",
        namespace="ns",
        display_name="Science",
        description="Numbers",
        url="https://example.org/sci",
        order=7,
        creator="ada",
        created_by="byon",
        phase="Succeeded",
        messages=tuple(messages),
        tags=(
            model.ImageTag(
                name="2024.1",
                reference="reg/ns/sci-notebook@sha256:0",
                software=(model.Software("Python", "3.11"), model.Software("CUDA", "12")),
                dependencies=(model.Software("numpy", "2.1"),),
                recommended=True,
                default=True,
                imported_from="quay.io/x/y",
            ),
        ),
    )
    assert image.key == "ns/sci-notebook" and image.visible and not image.warnings


def test_only_tags_in_status_are_offered_and_reference_falls_back_to_repository():
    obj = stream(tags=("a", "b", "c"), status_tags=[{"tag": "b"}, {"tag": "c", "items": []}])
    image = model.parse_image_stream(obj)
    assert [(t.name, t.reference) for t in image.tags] == [
        ("b", "reg/ns/py-notebook:b"),
        ("c", "reg/ns/py-notebook:c"),
    ]
    assert image.display_name == "py-notebook:b"  # ODH's fallback


@pytest.mark.parametrize(
    "obj, reason",
    [
        (stream(tags=()), "no tag"),
        (stream(tags=("a",), status_tags=[]), "no tag"),
        # in status, but with no reference and no repository to derive one from
        (
            stream(status_tags=[{"tag": "latest"}]) | {"status": {"tags": [{"tag": "latest"}]}},
            "no tag",
        ),
        ({"metadata": {}}, "metadata.name"),
        ({"metadata": "x"}, "metadata.name"),
        ("not a dict", "not an object"),
        (stream(ann=["not", "a", "map"]), "annotations"),
        (stream(tags=[{"annotations": {}}], status_tags=[{"tag": "latest"}]), "no tag"),
    ],
)
def test_unusable_streams_raise_invalid_image(obj, reason):
    with pytest.raises(model.InvalidImage, match=reason):
        model.parse_image_stream(obj)


def test_malformed_annotations_become_warnings_not_failures():
    tag = {
        "name": "latest",
        "annotations": {model.ANN_SOFTWARE: "{not json", model.ANN_DEPENDENCIES: '{"a": 1}'},
    }
    image = model.parse_image_stream(
        stream(ann={model.ANN_ORDER: "first", model.ANN_MESSAGES: "[1]"}, tags=[tag])
    )
    assert image.order == model.DEFAULT_ORDER
    assert image.tags[0].software == () and image.tags[0].dependencies == ()
    assert len(image.warnings) == 4
    assert all(w.startswith("py-notebook: ") for w in image.warnings)


@pytest.mark.parametrize(
    "phase, visible", [(None, True), ("Succeeded", True), ("Validating", False), ("Failed", False)]
)
def test_unvalidated_images_are_hidden(phase, visible):
    ann = {model.ANN_PHASE: phase} if phase else {}
    assert model.parse_image_stream(stream(ann=ann)).visible is visible


def test_sort_by_order_then_display_name():
    def img(name, order, display):
        return model.parse_image_stream(
            stream(name, ann={model.ANN_ORDER: str(order), model.ANN_NAME: display})
        )

    images = [
        img("c-notebook", 100, "beta"),
        img("a-notebook", 100, "Alpha"),
        img("b-notebook", 5, "zeta"),
    ]
    assert [i.name for i in model.sort_images(images)] == ["b-notebook", "a-notebook", "c-notebook"]


def test_default_choice_prefers_default_then_recommended_then_first():
    plain = model.parse_image_stream(stream("a-notebook"))
    rec = model.parse_image_stream(
        stream(
            "b-notebook", tags=["x", {"name": "y", "annotations": {model.ANN_RECOMMENDED: "true"}}]
        )
    )
    dflt = model.parse_image_stream(
        stream("c-notebook", tags=[{"name": "z", "annotations": {model.ANN_DEFAULT: "true"}}])
    )
    assert model.default_choice([plain, rec, dflt]) == (dflt, dflt.tags[0])
    assert model.default_choice([plain, rec]) == (rec, rec.tags[1])
    assert model.default_choice([plain]) == (plain, plain.tags[0])
    assert model.default_choice([]) is None


def local(name, tag, display=None, namespace=None):
    return model.NotebookImage(
        name=name,
        display_name=display or name,
        namespace=namespace,
        tags=(model.ImageTag(tag, f"/envs/{name}--{tag}"),),
    )


A1, A2, A3 = local("a", "t1", "A one"), local("a", "t2", "A two"), local("a", "t3", "A three")
B1 = local("b", "t1")
A1_DUP = local("a", "t1", "A again")


@pytest.mark.parametrize(
    "entries, images, dropped",
    [
        ([], [], []),
        # one entry per name: returned as is
        ([("d1", 1, A1), ("d2", 1, B1)], [("a", "A one", ["t1"]), ("b", "b", ["t1"])], []),
        # one image, all tags, newest first; the newest entry's fields
        ([("d1", 1, A1), ("d2", 3, A2), ("d3", 2, A3)], [("a", "A two", ["t2", "t3", "t1"])], []),
        # equal ages keep the given order
        ([("d1", 5, A1), ("d2", 5, A2)], [("a", "A one", ["t1", "t2"])], []),
        # a taken name:tag is dropped, whatever its age; the first entry wins
        (
            [("d1", 1, A1), ("d2", 9, A1_DUP), ("d3", 2, A2)],
            [("a", "A two", ["t2", "t1"])],
            [("d2", "a:t1 is already taken")],
        ),
        # the same name in two namespaces is two images
        (
            [("d1", 1, A1), ("d2", 1, local("a", "t1", "other ns", namespace="ns"))],
            [("a", "A one", ["t1"]), ("a", "other ns", ["t1"])],
            [],
        ),
    ],
)
def test_merge_tags(entries, images, dropped):
    merged, lost = model.merge_tags(entries)
    assert [(i.name, i.display_name, [t.name for t in i.tags]) for i in merged] == images
    assert [(source, reason) for source, _, reason in lost] == dropped
    for image in merged:
        references = {t.name: t.reference for t in image.tags}
        assert references == {t: f"/envs/{image.name}--{t}" for t in references}


def test_merge_tags_keeps_single_images_identical():
    merged, _ = model.merge_tags([("d1", 1, A1), ("d2", 1, B1)])
    assert merged[0] is A1 and merged[1] is B1


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("https://example.org/sci", True),
        ("http://example.org", True),
        ("HTTPS://EXAMPLE.ORG/x?a=1#b", True),
        ("https://[::1]:8080/x", True),
        ("https://user@example.org/", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("https://example.org/\x00", False),
        ("https://exa mple.org/", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("file:///etc/passwd", False),
        ("ftp://example.org/", False),
        ("//example.org/x", False),
        ("https:example.org", False),
        ("https://", False),
        ("https://[::1/x", False),  # urlsplit raises ValueError
        ("/relative/path", False),
        ("", False),
        ("https://x/" + "a" * 3000, False),
        (None, False),
        (3, False),
        (["https://x"], False),
    ],
)
def test_only_http_links_are_safe(raw, safe):
    assert model.link_url(raw) == (raw if safe else None)


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "data:text/html,x", 3, ["https://x"]])
def test_an_annotation_link_that_is_not_http_is_dropped_with_a_warning(raw):
    image = model.parse_image_stream(stream(ann={model.ANN_URL: raw}))
    assert image.url is None
    (warning,) = image.warnings
    assert warning.startswith(f"py-notebook: {model.ANN_URL} ") and "not an http(s) URL" in warning
