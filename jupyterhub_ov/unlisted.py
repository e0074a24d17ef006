"""The menu's "other image" free-text choice, with KubeSpawner 7.1's ``unlisted_choice`` rules.

KubeSpawner (``profile_options.<name>.unlisted_choice``) keeps the typed value in
``user_options["<name>--unlisted-choice"]``; a value wins over a listed choice, is refused
when the choice is not enabled, and must satisfy ``re.match(validation_regex, value)`` (anchored
at the start only, as KubeSpawner does; write ``$`` to anchor the end). The browser's
``pattern`` attribute is a convenience; the server's check is the one that counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNLISTED_FIELD = "image--unlisted-choice"
KEYS = {"enabled", "display_name", "display_name_in_choices", "validation_regex"}
KEYS |= {"validation_message"}
#: longest value accepted (an image reference is far shorter)
MAX_LENGTH = 1024


@dataclass(frozen=True)
class Unlisted:
    display_name: str = "Other image"
    display_name_in_choices: str = "Other..."
    validation_regex: str = ""
    validation_message: str = ""


def parse_unlisted(config: Mapping[str, Any]) -> Unlisted | None:
    """The admin's configuration → Unlisted, or None when not enabled; ValueError naming the
    key when something is wrong (an unknown key, a regex that does not compile)."""
    unknown = set(config) - KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    if not config.get("enabled"):
        return None
    regex = str(config.get("validation_regex") or "")
    try:
        re.compile(regex)
    except re.error as e:
        raise ValueError(f"validation_regex {regex!r} does not compile: {e}") from None
    message = str(config.get("validation_message") or "")
    return Unlisted(
        display_name=str(config.get("display_name") or "Other image"),
        display_name_in_choices=str(config.get("display_name_in_choices") or "Other..."),
        validation_regex=regex,
        validation_message=message or (f"Must match {regex}" if regex else ""),
    )


def checked_value(unlisted: Unlisted | None, value: Any) -> str:
    """The typed value if it may be started, else ValueError with a message for the user."""
    if unlisted is None:
        raise ValueError("Entering an image by hand is not enabled here.")
    text = str(value).strip()
    if not text or len(text) > MAX_LENGTH or not text.isprintable() or " " in text:
        raise ValueError("The image you entered is empty or not a single image reference.")
    if unlisted.validation_regex and not re.match(unlisted.validation_regex, text):
        raise ValueError(
            f"The image {text!r} is not allowed. {unlisted.validation_message}".strip()
        )
    return text
