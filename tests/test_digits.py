"""Numbers in text are ASCII digits only (jupyterhub_ov.digits), and what reads version
folders, headers and settings relies on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterhub_ov.culling import parse_timeout
from jupyterhub_ov.digits import is_number
from jupyterhub_ov.ovms.sources import LocalSource


@pytest.mark.parametrize(
    "text, number",
    [("0", True), ("42", True), ("007", True), ("", False), ("-1", False), ("1.5", False),
     (" 1", False), ("²", False), ("１", False), ("٣", False), ("1e3", False)],
)  # fmt: skip
def test_only_ascii_digits_are_numbers(text: str, number: bool) -> None:
    assert is_number(text) is number
    if number:
        assert str(int(text)) == text.lstrip("0") or int(text) == 0


def test_version_folders_named_with_other_digits_are_not_versions(tmp_path: Path) -> None:
    # a user names folders in their own bucket: '²' made int() raise, '１' read as version 1
    for name in ("1", "3", "²", "１", "0", "v2"):
        (tmp_path / name).mkdir()
    assert LocalSource(str(tmp_path)).versions() == [1, 3]


def test_a_timeout_in_other_digits_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="must be whole seconds"):
        parse_timeout("３６００", name="JUPYTERHUB_OV_CULL_IDLE_TIMEOUT")
