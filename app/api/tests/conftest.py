import json
import uuid

import pytest


@pytest.fixture
def body(pizza):
    return {
        "pizza": pizza.pk,
        "size": "small",
        "quantity": 3,
        "customer_name": "Alan Turing",
        "phone": "+44 22 33 44 55",
        "address": "Bletchley Park",
    }


@pytest.fixture
def post(client):
    """post(body, key=<new uuid>, **headers): POST /api/v1/orders; `body` may be raw bytes or str."""

    def send(payload, key="new", content_type="application/json", **headers):
        if key == "new":
            key = str(uuid.uuid4())
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        return client.post("/api/v1/orders", data, content_type=content_type, **headers)

    return send
