"""Every page under every theme: same logic, different design."""

import pytest

from config.variants import THEMES
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db

CTA = {"classic": "Place your order", "bold": "GET MY PIZZA NOW", "minimal": "Order"}
STYLESHEET_MARKER = {"classic": "Georgia", "bold": "Impact", "minimal": "ui-monospace"}


def pages(order) -> dict[str, int]:
    """Each customer page and the status it must answer: only the unknown path is a 404."""
    return {
        "/": 200,
        "/order/": 200,
        f"/orders/{order.access_token}/confirmed/": 200,
        f"/orders/{order.access_token}/": 200,
        "/accounts/login/": 200,
        "/no-such-page/": 404,
    }


@pytest.mark.parametrize("theme", THEMES)
def test_every_customer_page_renders_with_the_theme_marker(client, use_theme, theme):
    order = make_order()
    with use_theme(theme):
        for url, status in pages(order).items():
            response = client.get(url)
            assert response.status_code == status, url
            html = response.content.decode()
            assert f'data-theme="{theme}"' in html, url
            assert response["X-Pizza-Theme"] == theme


@pytest.mark.parametrize("theme", THEMES)
def test_staff_pages_render_under_the_theme(staff_client, use_theme, theme):
    make_order()
    with use_theme(theme):
        response = staff_client.get("/staff/orders/")
        assert response.status_code == 200
        assert f'data-theme="{theme}"' in response.content.decode()


@pytest.mark.parametrize("theme", THEMES)
def test_each_theme_words_the_call_to_action_its_own_way(client, use_theme, theme):
    with use_theme(theme):
        assert CTA[theme] in client.get("/").content.decode()


@pytest.mark.parametrize("theme", THEMES)
def test_each_theme_ships_its_own_stylesheet(client, use_theme, theme):
    with use_theme(theme):
        from django.contrib.staticfiles import finders

        path = finders.find("css/theme.css")
        assert f"/themes/{theme}/" in str(path)
        assert STYLESHEET_MARKER[theme] in open(path).read()


def test_the_three_home_pages_differ_in_layout(client, use_theme):
    bodies = {}
    for theme in THEMES:
        with use_theme(theme):
            bodies[theme] = client.get("/").content.decode()
    assert 'class="menu-card"' in bodies["classic"]
    assert 'class="card-grid"' in bodies["bold"]
    assert 'class="menu-table"' in bodies["minimal"]
