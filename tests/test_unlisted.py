import re

import pytest

from jupyterhub_ov import menu
from jupyterhub_ov.unlisted import UNLISTED_FIELD, Unlisted, checked_value, parse_unlisted

from .util import menu_island

ON = parse_unlisted(
    {"enabled": True, "validation_regex": r"^quay\.io/ok/", "validation_message": "quay only"}
)


@pytest.mark.parametrize(
    "config, problem",
    [
        ({"enabled": True, "regex": "x"}, "unknown keys ['regex']"),
        ({"enabled": True, "validation_regex": "("}, "validation_regex '(' does not compile"),
    ],
)
def test_bad_configuration_is_refused(config, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_unlisted(config)


def test_defaults_and_disabled():
    assert parse_unlisted({}) is None and parse_unlisted({"enabled": False}) is None
    assert parse_unlisted({"enabled": True}) == Unlisted("Other image", "Other...", "", "")
    assert ON.validation_message == "quay only"
    assert parse_unlisted({"enabled": True, "validation_regex": "^a"}).validation_message == (
        "Must match ^a"
    )


@pytest.mark.parametrize(
    "value, accepted",
    [
        ("quay.io/ok/img:1", True),
        ("  quay.io/ok/img:1 ", True),  # trimmed
        ("quay.io/ok/img:1 extra", False),
        ("xquay.io/ok/img", False),  # re.match is anchored at the start
        ("docker.io/evil:1", False),
        ("", False),
        ("quay.io/ok/\nimg", False),
        ("quay.io/ok/" + "x" * 2000, False),
    ],
)
def test_checked_value_follows_kubespawner(value, accepted):
    if accepted:
        assert checked_value(ON, value) == value.strip()
    else:
        with pytest.raises(ValueError):
            checked_value(ON, value)


def test_the_regex_matches_the_start_only_like_kubespawner():
    loose = parse_unlisted({"enabled": True, "validation_regex": "quay"})
    assert checked_value(loose, "quay.io/anything") == "quay.io/anything"
    with pytest.raises(ValueError):
        checked_value(loose, "docker.io/quay")


def test_the_form_keeps_a_typed_image_only_when_enabled():
    form = {"image": ["unlisted-choice"], UNLISTED_FIELD: ["quay.io/ok/a:1"]}
    assert menu.options_from_form(form, ON) == {UNLISTED_FIELD: "quay.io/ok/a:1"}
    with pytest.raises(ValueError, match="not enabled"):
        menu.options_from_form(form)
    with pytest.raises(ValueError, match="quay only"):
        menu.options_from_form({UNLISTED_FIELD: ["docker.io/x:1"]}, ON)
    assert menu.options_from_form({"image": ["unlisted-choice"]}, ON) == {}


def test_render_offers_other_image_and_keeps_a_saved_one():
    from .test_menu import IMAGES

    page = menu.render_menu(IMAGES, unlisted=ON, wanted_unlisted='quay.io/ok/"x')
    _, _, rest = menu_island(page)
    assert 'id="ov-other" value="unlisted-choice"' in rest
    assert 'pattern="^quay\\.io/ok/"' in rest and 'title="quay only"' in rest
    assert f'data-name="{UNLISTED_FIELD}" value="quay.io/ok/&#34;x"' in rest
    assert 'id="ov-other"' not in menu.render_menu(IMAGES)


def test_admin_notes_are_shown_only_when_passed():
    from .test_menu import IMAGES

    page = menu.render_menu(IMAGES, admin_notes=["ns/custom-x: 1: <manifest unknown>"])
    assert "Image import problems (1, shown to admins)" in page
    assert "<li>ns/custom-x: 1: &lt;manifest unknown&gt;</li>" in page
    assert "Image import problems" not in menu.render_menu(IMAGES)
