"""Phone numbers in one canonical form, so the form stores and the staff search finds the same text."""

from __future__ import annotations

import re

NOT_DIGIT = re.compile(r"[^0-9]")


def normalise_phone(value: str) -> str:
    """Keep a leading + and the digits: '+45 12 34-56 78' -> '+4512345678'."""
    value = value.strip()
    return ("+" if value.startswith("+") else "") + NOT_DIGIT.sub("", value)


def digit_count(value: str) -> int:
    return len(NOT_DIGIT.sub("", value))
