"""{% once %} (ops.templatetags.once): a fragment rendered once per process and page, never what
depends on the request."""

from __future__ import annotations

import pytest
from django.template import Context, Engine
from django.test import Client, override_settings

LIBRARIES = {"once": "ops.templatetags.once"}
SOURCE = "{% load once %}{% once %}[{{ value }}]{% endonce %}({{ value }})"


def test_a_fragment_is_rendered_once_and_the_rest_every_time():
    page = Engine(libraries=LIBRARIES).from_string(SOURCE)
    assert page.render(Context({"value": 1})) == "[1](1)"
    assert page.render(Context({"value": 2})) == "[1](2)"


def test_a_changed_setting_forgets_the_fragments():
    page = Engine(libraries=LIBRARIES).from_string(SOURCE)
    page.render(Context({"value": 1}))
    with override_settings(VARIANT="b"):
        assert page.render(Context({"value": 2})) == "[2](2)"


def test_a_debug_engine_keeps_nothing():
    page = Engine(debug=True, libraries=LIBRARIES).from_string(SOURCE)
    page.render(Context({"value": 1}))
    assert page.render(Context({"value": 2})) == "[2](2)"


def test_each_page_has_its_own_copy():
    pages = {"base": SOURCE, "a": "{% extends 'base' %}", "b": "{% extends 'base' %}"}
    engine = Engine(libraries=LIBRARIES, loaders=[("django.template.loaders.locmem.Loader", pages)])
    assert engine.get_template("a").render(Context({"value": 1})) == "[1](1)"
    assert engine.get_template("b").render(Context({"value": 2})) == "[2](2)"


@pytest.mark.django_db
def test_the_header_still_follows_the_user(client, staff_client):
    """The header's shared links come from the fragment; the staff links and Log out are per request."""
    anonymous = client.get("/order/").content.decode()
    staff = staff_client.get("/order/").content.decode()
    again = Client().get("/order/").content.decode()
    for page in (anonymous, staff, again):
        assert 'href="/order/"' in page and 'class="site-footer"' in page
    assert 'href="/staff/orders/"' in staff and "Log out" in staff
    assert 'href="/staff/orders/"' not in anonymous + again and "Log out" not in anonymous + again
