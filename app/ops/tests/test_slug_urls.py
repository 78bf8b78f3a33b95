"""ops.slug_urls gives reverse()'s own answer, under any script prefix, and refuses what reverse() refuses."""

import secrets

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from ops.slug_urls import slug_url

NAMES = ["orders:confirmation", "orders:order_status", "orders:staff_change_status", "orders:staff_confirm_cancel"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", ["/", "/pizza/", "/a b/"])
def test_the_same_url_as_reverse(name, prefix):
    set_script_prefix(prefix)
    try:
        for slug in [secrets.token_urlsafe(32), "WZDVAF7U7N", "-_x9", "SLUGMARK"]:
            assert slug_url(name, slug) == reverse(name, args=[slug])
    finally:
        clear_script_prefix()


@pytest.mark.parametrize("value", ["", "a/b", "a b", "ü", "x?y", "x\n"])
def test_what_is_not_a_slug_is_refused_like_reverse_does(value):
    with pytest.raises(NoReverseMatch):
        reverse("orders:confirmation", args=[value])
    with pytest.raises(NoReverseMatch):
        slug_url("orders:confirmation", value)
