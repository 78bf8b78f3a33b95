"""Twenty phones retrying at once with one Idempotency-Key: one order, never two rows."""

import json
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from api.models import IdempotencyKey
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_parallel_posts_with_one_key_make_one_order(body, settings):
    settings.API_ORDER_RATE_LIMIT = 0
    key, contenders = str(uuid.uuid4()), 20
    start = threading.Barrier(contenders)
    results = []

    def send():
        try:
            start.wait()
            response = Client().post("/api/v1/orders", json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
            results.append((response.status_code, response.get("Idempotent-Replayed"), response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    kinds = Counter("replay" if replayed else str(status) for status, replayed, _ in results)
    assert len(results) == contenders
    assert kinds["201"] == 1 and kinds["replay"] + kinds["409"] == contenders - 1, kinds
    assert Order.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    references = {doc["reference"] for status, _, doc in results if status == 201}
    assert references == {Order.objects.get().reference}
