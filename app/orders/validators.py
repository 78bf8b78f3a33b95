"""Text the shop refuses wherever it is entered: the order form, the JSON API and the admin."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069): in a name or an
# address they make the staff table and the admin display text reversed or reordered.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def no_bidi_controls(value: str) -> None:
    if BIDI_CONTROLS.search(value or ""):
        raise ValidationError(
            "Please remove the invisible text-direction characters (U+202A-202E, U+2066-2069) from this field.",
            code="bidi",
        )
