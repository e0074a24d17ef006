import html
import json
import re

import pytest

from jupyterhub_ov import menu
from jupyterhub_ov.images import model
from jupyterhub_ov.images.manifest import manifest_to_stream

BASE = {
    "display_name": "X",
    "description": "d",
    "creator": "c",
    "python_version": "3.11",
    "packages": [],
    "phase": "Succeeded",
}


def image(name, **kw):
    return model.parse_image_stream(manifest_to_stream(BASE | {"name": name} | kw, f"/envs/{name}"))


IMAGES = [
    image(
        "a-notebook",
        display_name="Alpha",
        default=True,
        packages=[{"name": "numpy", "version": "2.1"}],
    ),
    image("b-notebook", display_name="Beta <script>", description="<b>bold</b> & co", tag="v2"),
]


def test_form_round_trip():
    assert menu.options_from_form({"image": ["b-notebook:v2"], "other": ["x"]}) == {
        "image": "b-notebook:v2"
    }
    assert menu.options_from_form({}) == {}


@pytest.mark.parametrize(
    "wanted, value, noted",
    [
        (None, "a-notebook:latest", False),
        ("", "a-notebook:latest", False),
        ("b-notebook:v2", "b-notebook:v2", False),
        ("b-notebook:v1", "a-notebook:latest", True),  # tag gone
        ("gone-notebook:latest", "a-notebook:latest", True),  # image gone
        ("garbage", "a-notebook:latest", True),
    ],
)
def test_resolve_choice_falls_back_with_a_note(wanted, value, noted):
    choice = menu.resolve_choice(IMAGES, wanted)
    assert choice.value == value
    assert (choice.note is not None) is noted
    if noted:
        assert repr(wanted) in choice.note and "Alpha" in choice.note


def test_no_images_is_a_clear_error():
    with pytest.raises(menu.NoImageAvailable, match="ask an administrator"):
        menu.resolve_choice([], "a-notebook:latest")
    assert "No notebook image is available" in menu.render_menu([])


def island(page):
    """The menu's JSON data island, checked to hold no markup the HTML parser could act on."""
    found = re.search(r'<script type="application/json" id="ov-data">(.*?)</script>', page, re.S)
    assert found is not None
    assert "<" not in found[1] and ">" not in found[1] and "&" not in found[1]
    return json.loads(found[1])


def chosen(page):
    found = re.findall(r'id="ov-kept" data-chosen="([^"]*)"', page)
    assert len(found) == 1
    return html.unescape(found[0])


def test_render_lists_images_preselects_and_escapes():
    page = menu.render_menu(IMAGES, "b-notebook:v2")
    data = island(page)
    assert [row[0] for row in data["im"]] == ["a-notebook", "b-notebook"]
    assert chosen(page) == "b-notebook:v2"
    software = {text for pair in data["sw"] for text in pair}
    assert any("numpy 2.1" in t for t in software) and any("Python 3.11" in t for t in software)
    assert data["im"][1][1] == "Beta <script>" and data["im"][1][2] == "<b>bold</b> & co"
    assert "Beta <script>" not in page and "<b>bold</b>" not in page


def test_render_warns_when_saved_choice_is_gone():
    page = menu.render_menu(IMAGES, "gone-notebook:latest")
    assert chosen(page) == "a-notebook:latest"
    assert "no longer available" in page


SIZES = menu.parse_sizes(
    [
        {"name": "small", "display_name": "Small", "cpu_limit": 1, "mem_limit": "2G"},
        {"name": "large", "cpu_guarantee": 2, "mem_guarantee": "8G", "default": True},
    ]
)


def test_sizes_parse_resolve_and_render():
    assert SIZES[0] == menu.Size("small", "Small", {"cpu_limit": 1, "mem_limit": "2G"})
    assert menu.resolve_size(SIZES, "small").name == "small"
    assert menu.resolve_size(SIZES, None).name == "large"
    assert menu.resolve_size(SIZES, "gone").name == "large"
    assert menu.resolve_size([], "small") is None
    page = menu.render_menu(IMAGES, None, SIZES, "small")
    assert (
        '<option value="small" data-ov-size selected>Small (cpu limit 1, mem limit 2G)</option>'
        in page
    )
    assert menu.options_from_form({"image": ["a-notebook:latest"], "size": ["large"]}) == {
        "image": "a-notebook:latest",
        "size": "large",
    }
    assert "Container size" not in menu.render_menu(IMAGES)


@pytest.mark.parametrize(
    "config, problem",
    [
        ([{"display_name": "x"}], "size #0 needs a non-empty 'name'"),
        ([{"name": "a", "cpu": 1}], "size 'a': unknown keys ['cpu']"),
        ([{"name": "a"}, {"name": "a"}], "size 'a' is listed twice"),
    ],
)
def test_bad_sizes_are_refused(config, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        menu.parse_sizes(config)


def test_cached_form_never_carries_one_users_choice_to_another():
    first = menu.render_menu(IMAGES, "gone-notebook:latest", SIZES, "small")
    second = menu.render_menu(IMAGES, "b-notebook:v2", SIZES, "large")
    assert "no longer available" in first and "no longer available" not in second
    assert chosen(second) == "b-notebook:v2"
    assert second.count(" selected") == 1 and 'value="large" data-ov-size selected' in second


def test_a_changed_catalog_is_rendered_anew():
    before = menu.render_menu(IMAGES)
    renamed = image("a-notebook", display_name="Alpha II", default=True)
    after = menu.render_menu([renamed, IMAGES[1]])
    assert "Alpha II" not in before and "Alpha II" in after
    assert island(after)["im"][0][1] == "Alpha II"


def test_connections_are_offered_as_checkboxes_and_read_back():
    from jupyterhub_ov.connections import Connection

    offered = [
        Connection("team-s3", "Team <S3>", frozenset({"alice"}), frozenset()),
        Connection("archive", "Archive", frozenset({"alice"}), frozenset()),
    ]
    page = menu.render_menu(IMAGES, connections=offered, wanted_connections=["archive"])
    assert "<legend>Connections</legend>" in page
    assert 'name="connection" id="ov-connection-0" value="team-s3">' in page
    assert 'name="connection" id="ov-connection-1" value="archive" checked>' in page
    assert "Team &lt;S3&gt;" in page and "Team <S3>" not in page
    # another user's page (same cached form) shows none of them
    assert "Connections" not in menu.render_menu(IMAGES)
    form = {"image": ["a-notebook:latest"], "connection": ["archive", "team-s3", "archive"]}
    assert menu.options_from_form(form) == {
        "image": "a-notebook:latest",
        "connections": ["archive", "team-s3"],
    }
