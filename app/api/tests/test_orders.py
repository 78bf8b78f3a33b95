"""Placing and reading orders through /api/v1, with the web form's rules."""

import uuid

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


def test_an_order_is_placed_and_can_be_read_by_its_token(client, post, body):
    response = post(body)
    assert response.status_code == 201
    created = response.json()
    assert response["Location"] == created["status_url"]
    order = Order.objects.get()
    assert (order.channel, order.quantity, order.size, order.phone) == ("api", 3, "small", "+4422334455")
    read = client.get(created["status_url"])
    assert read.status_code == 200
    assert read.json()["reference"] == order.reference
    assert [step["state"] for step in read.json()["timeline"]] == ["current", "todo", "todo", "todo"]


def test_timeline_follows_the_status(client, post, body):
    created = post(body).json()
    Order.objects.update(status="out_for_delivery")
    steps = client.get(created["status_url"]).json()["timeline"]
    assert [(s["status"], s["state"]) for s in steps] == [
        ("received", "done"),
        ("baking", "done"),
        ("out_for_delivery", "current"),
        ("delivered", "todo"),
    ]
    assert steps[2]["at"] is not None and steps[1]["at"] is None


def test_total_is_the_sized_price_times_quantity(post, body, pizza):
    created = post({**body, "size": "large", "quantity": 2}).json()
    assert created["total"] == str((pizza.price * 130 / 100).quantize(pizza.price) * 2)


def test_an_unknown_token_is_a_404_problem(client):
    response = client.get("/api/v1/orders/" + "x" * 43)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "change,field",
    [
        ({"phone": "call me"}, "phone"),
        ({"pizza": 424242}, "pizza"),
        ({"customer_name": "A\x00B"}, "customer_name"),
        ({"address": "   "}, "address"),
    ],
)
def test_the_web_forms_rules_refuse_and_name_the_field(post, body, change, field):
    response = post({**body, **change})
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {f"/{field}"}
    assert Order.objects.count() == 0


def test_a_closed_shop_answers_503_with_retry_after_and_stores_nothing(post, body):
    from waffle.models import Switch

    Switch.objects.update_or_create(name="orders_open", defaults={"active": False})
    response = post(body)
    assert response.status_code == 503
    assert response["Retry-After"] and response.json()["type"] == "urn:pizza:problem:shop-closed"
    assert Order.objects.count() == 0


def test_shop_says_whether_it_is_open(client, pizza):
    from waffle.models import Switch

    assert client.get("/api/v1/shop").json() == {"open": True}
    Switch.objects.filter(name="orders_open").update(active=False)
    from django.core.cache import caches

    caches["waffle"].clear()
    assert client.get("/api/v1/shop").json() == {"open": False}


def test_a_web_form_token_used_as_a_key_reveals_nothing(client, post, body, order_data):
    client.post("/order/", order_data)
    response = post(body, key=order_data["form_token"])
    assert response.status_code == 422
    assert "token" not in response.json() and Order.objects.count() == 1


def test_a_key_reused_after_its_record_expired_with_the_same_body_gets_the_same_order(post, body):
    from api.models import IdempotencyKey

    key = str(uuid.uuid4())
    first = post(body, key=key).json()
    IdempotencyKey.objects.all().delete()  # as purge_idempotency_keys does after 24 h
    again = post(body, key=key)
    assert again.status_code == 201 and again.json()["reference"] == first["reference"]
    assert Order.objects.count() == 1


def test_a_pizza_withdrawn_after_the_menu_was_read_is_a_422_naming_the_pizza(post, body, pizza):
    from orders.models import Pizza

    assert post(body).status_code == 201  # this process has now read the pizza
    Pizza.objects.filter(pk=pizza.pk).update(active=False)  # as another process would: the copy is not dropped
    response = post(body)
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"/pizza"}
    assert Order.objects.count() == 1
