"""Whole numbers written in text (pure): ASCII digits only.

``str.isdigit`` admits more than ``int`` reads the same way: ``'²'`` is a digit that ``int``
refuses (a 500 where a 400 was meant, or a crash of whatever looped over the names), and
``'１'`` (fullwidth) is one ``int`` reads as 1, so a version folder named ``１`` would be taken
for version 1 while its path is not ``1``. Every number read from a header, a query, a spec,
an environment variable or an object name is checked with `is_number`.
"""

from __future__ import annotations


def is_number(text: str) -> bool:
    """Whether ``text`` is a non-empty run of ASCII digits ``0``-``9``."""
    return text.isascii() and text.isdigit()
