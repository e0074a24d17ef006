"""The spawner menu's page in Chromium: search, one description and software list per image,
sizes, keyboard use, the last choice preselected (and kept through a search), an outdated saved
tag, the "other image" choice and hostile text shown as text. The page is `render_menu`'s HTML
in a form whose submission is intercepted, so what the browser would send is checked too
(the hub's own flow is in test_browser.py and tests/kube/test_kube_browser.py)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from jupyterhub_ov import menu
from jupyterhub_ov.images import model, odh
from jupyterhub_ov.unlisted import parse_unlisted

from ..browser import browser_page
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SUBMIT = "http://menu.test/hub/spawn"
SOFTWARE = json.dumps([{"name": "Python", "version": "3.11"}])


def stream(i: int, *, name: str | None = None, desc: str = "", **tag_ann: str) -> dict:
    name = name or f"image-{i:04d}-notebook"
    packages = json.dumps([{"name": f"pkg{i % 3}", "version": "1.0"}])
    annotations = {model.ANN_SOFTWARE: SOFTWARE, model.ANN_DEPENDENCIES: packages, **tag_ann}
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "annotations": {
                model.ANN_NAME: f"Image {i}",
                model.ANN_DESC: desc or f"Description of image {i}",
                model.ANN_ORDER: str(i),
            },
        },
        "spec": {"tags": [{"name": "1", "annotations": annotations}, {"name": "2"}]},
        "status": {
            "dockerImageRepository": f"r/ns/{name}",
            "tags": [{"tag": "1", "items": [{}]}, {"tag": "2", "items": [{}]}],
        },
    }


IMAGES = [model.parse_image_stream(stream(i)) for i in range(300)]
HOSTILE = model.parse_image_stream(
    stream(999, name="evil-notebook", desc='<img src=x onerror="window.owned=1">')
)
OUTDATED = model.parse_image_stream(
    stream(1000, name="old-notebook", **{odh.ANN_OUTDATED: "true", odh.ANN_BUILD_COMMIT: "c0ffee"})
)
SIZES = menu.parse_sizes([{"name": "small", "cpu_limit": 1}, {"name": "large", "cpu_limit": 4}])
UNLISTED = parse_unlisted(
    {"enabled": True, "validation_regex": r"^quay\.io/ok/.+:.+$", "validation_message": "quay"}
)


def routes(page) -> list[dict]:
    """Serve a blank page at menu.test and capture form submissions; return the captures."""
    sent: list[dict] = []

    def capture(route) -> None:
        sent.append(parse_qs(route.request.post_data or ""))
        route.fulfill(status=200, body="started")

    page.route(SUBMIT, capture)
    page.route("http://menu.test/", lambda r: r.fulfill(status=200, body="<html></html>"))
    return sent


def load(page, html: str) -> None:
    """The menu in a form as the hub's spawn page has it, its script run."""
    page.goto("http://menu.test/")
    page.set_content(
        f'<form method="post" action="{SUBMIT}">{html}<button type="submit">Start</button></form>'
    )
    page.wait_for_selector('.ov-image input[name="image"]')


def submit(page, sent: list[dict]) -> dict:
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("document.body.innerText.includes('started')")
    return sent[-1]


def test_search_keyboard_preselection_and_submission():
    ARTIFACTS.mkdir(exist_ok=True)
    page_html = menu.render_menu([*IMAGES, HOSTILE], "ns/image-0150-notebook:2", SIZES, "large")
    with browser_page(str(ARTIFACTS / "FAILED-menu-browser.png")) as page:
        sent = routes(page)
        load(page, page_html)
        # a hundred images drawn of 301; the saved one is checked though it is not among them
        assert page.locator(".ov-image").count() == menu.ROW_LIMIT
        assert "301 images match; the first 100 are shown" in page.inner_text("#ov-count")
        # the description once per image, the software list once (both tags share it)
        first = page.locator(".ov-image").first
        assert first.locator(".ov-desc").inner_text() == "Description of image 0"
        assert first.locator(".ov-software").all_inner_texts() == ["Python 3.11 · pkg0 1.0"]
        assert page.locator('select[name="size"]').input_value() == "large"

        # search by package and name; the choice survives rows that hide it
        page.fill("#ov-search", "pkg0 image 15")
        titles = page.locator(".ov-image h3").all_inner_texts()
        assert titles and all(t.startswith("Image 15") for t in titles)
        assert page.is_checked('input[value="ns/image-0150-notebook:2"]')
        page.fill("#ov-search", "Image 7 ")
        assert not page.locator('.ov-image input[value="ns/image-0150-notebook:2"]').count()
        kept = page.locator('#ov-kept input[type="hidden"][name="image"]')
        assert kept.get_attribute("value") == "ns/image-0150-notebook:2"
        page.screenshot(path=str(ARTIFACTS / "menu-search.png"), full_page=True)
        assert submit(page, sent)["image"] == ["ns/image-0150-notebook:2"]

        # keyboard only: type, Down arrow into the list, arrows move and pick
        load(page, page_html)
        page.focus("#ov-search")
        page.keyboard.type("Image 42")
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.value") == "ns/image-0042-notebook:1"
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.value") == "ns/image-0042-notebook:2"
        assert page.is_checked('input[value="ns/image-0042-notebook:2"]')
        page.keyboard.press("Enter")  # from the search box this would not submit; here it does
        page.wait_for_function("document.body.innerText.includes('started')")
        assert sent[-1]["image"] == ["ns/image-0042-notebook:2"]
        assert sent[-1]["size"] == ["large"]


def test_enter_in_the_search_box_does_not_start_a_server():
    with browser_page(str(ARTIFACTS / "FAILED-menu-browser-enter.png")) as page:
        sent = routes(page)
        load(page, menu.render_menu(IMAGES[:5]))
        page.focus("#ov-search")
        page.keyboard.type("Image 4")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.value") == "ns/image-0004-notebook:1"
        assert sent == [] and page.locator("#ov-menu").count() == 1


def test_hostile_text_outdated_saved_tag_and_other_image():
    page_html = menu.render_menu(
        [HOSTILE, OUTDATED, *IMAGES[:3]], "ns/old-notebook:1", unlisted=UNLISTED
    )
    with browser_page(str(ARTIFACTS / "FAILED-menu-browser-other.png")) as page:
        sent = routes(page)
        load(page, page_html)
        evil = page.locator('.ov-image[data-image="ns/evil-notebook"] .ov-desc')
        assert evil.inner_text() == '<img src=x onerror="window.owned=1">'
        assert page.evaluate("window.owned") is None and page.locator("#ov-menu img").count() == 0

        # the outdated saved tag: offered to this user only, marked, and sent as is
        old = page.locator('.ov-image[data-image="ns/old-notebook"]')
        assert "outdated" in old.inner_text() and "is outdated: it still starts" in page.content()
        assert page.is_checked('input[value="ns/old-notebook:1"]')
        assert old.locator('input[name="image"]').count() == 2  # tag 2, and the saved tag 1
        assert submit(page, sent)["image"] == ["ns/old-notebook:1"]

        # "other image": the field appears, the browser checks the pattern, the value is sent
        load(page, page_html)
        page.check("#ov-other")
        field = page.locator("#ov-other-value")
        assert field.is_visible() and field.get_attribute("pattern") == r"^quay\.io/ok/.+:.+$"
        field.fill("docker.io/evil:1")
        page.get_by_role("button", name="Start").click()
        assert page.evaluate("document.getElementById('ov-other-value').validity.valid") is False
        field.fill("quay.io/ok/mine:1")
        page.screenshot(path=str(ARTIFACTS / "menu-other-image.png"), full_page=True)
        form = submit(page, sent)
        assert form["image"] == ["unlisted-choice"]
        assert form["image--unlisted-choice"] == ["quay.io/ok/mine:1"]
        assert menu.options_from_form(form, UNLISTED) == {
            "image--unlisted-choice": "quay.io/ok/mine:1"
        }
