"""The menu: sizes and prices, and an ETag so a phone downloads it only when it changes."""

import pytest

pytestmark = pytest.mark.django_db


def test_menu_lists_active_pizzas_with_a_price_per_size(client, pizza):
    menu = client.get("/api/v1/menu").json()
    assert [p["name"] for p in menu["pizzas"]][:3] == ["Vegetarian", "Pepperoni", "Roman"]
    pepperoni = next(p for p in menu["pizzas"] if p["id"] == pizza.pk)
    assert [s["size"] for s in pepperoni["sizes"]] == ["small", "medium", "large"]
    assert next(s["price"] for s in pepperoni["sizes"] if s["size"] == "medium") == str(pizza.price)


def test_if_none_match_gives_304_until_the_menu_changes(client, pizza):
    etag = client.get("/api/v1/menu")["ETag"]
    unchanged = client.get("/api/v1/menu", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert client.get("/api/v1/menu", HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    pizza.price += 1
    pizza.save()  # as the admin saves it: the cached menu is dropped at once
    changed = client.get("/api/v1/menu", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
