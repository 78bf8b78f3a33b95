"""The JSON API a mobile app uses: same rules, retries made safe by an Idempotency-Key."""

import json
import uuid

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


def post(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/orders", json.dumps(body) if not isinstance(body, str) else body,
                       content_type="application/json", **headers)


@pytest.fixture
def body(pizza):
    return {"pizza": pizza.pk, "size": "small", "quantity": 3, "customer_name": "Alan", "phone": "+4422334455",
            "address": "Bletchley Park"}


def test_menu_lists_active_pizzas(client, pizza):
    names = [p["name"] for p in client.get("/api/v1/menu").json()["pizzas"]]
    assert names[:5] == ["Vegetarian", "Pepperoni", "Roman", "Sicilian", "Hawaiian"]


def test_order_created_then_retry_returns_the_same(client, body):
    key = str(uuid.uuid4())
    first = post(client, body, key)
    second = post(client, body, key)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["reference"] == second.json()["reference"]
    assert Order.objects.count() == 1


def test_status_url_works(client, body):
    created = post(client, body, str(uuid.uuid4())).json()
    assert client.get(created["status_url"]).json()["status"] == "received"


@pytest.mark.parametrize("payload,key,status", [
    ({}, None, 400),
    ("not json", "00000000-0000-4000-8000-000000000000", 400),
    ("[1, 2]", "00000000-0000-4000-8000-000000000001", 400),
    ({"quantity": 0}, "00000000-0000-4000-8000-000000000002", 422),
])
def test_bad_requests_are_refused_and_store_nothing(client, body, payload, key, status):
    data = {**body, **payload} if isinstance(payload, dict) and payload else payload
    response = post(client, data, key)
    assert response.status_code == status
    assert "error" in response.json()
    assert Order.objects.count() == 0


def test_field_errors_are_named(client, body):
    response = post(client, {**body, "quantity": "lots", "pizza": 424242}, str(uuid.uuid4()))
    fields = response.json()["fields"]
    assert set(fields) == {"quantity", "pizza"}


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"] == "Not found."
