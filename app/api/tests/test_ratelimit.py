"""POST /orders is limited per client, counted in the default cache."""

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


def test_over_the_limit_is_429_with_retry_after(post, body, settings):
    settings.API_ORDER_RATE_LIMIT = 3
    assert [post(body).status_code for _ in range(3)] == [201, 201, 201]
    response = post(body)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= settings.API_ORDER_RATE_WINDOW
    assert Order.objects.count() == 3


def test_clients_are_counted_apart_by_the_proxy_supplied_address(post, body, settings):
    settings.API_ORDER_RATE_LIMIT = 1
    assert post(body, HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 201
    # The client can write the left part of X-Forwarded-For; only the proxy's rightmost entry counts.
    assert post(body, HTTP_X_FORWARDED_FOR="10.9.9.9, 10.0.0.1").status_code == 429
    assert post(body, HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 201


def test_replays_are_not_counted(post, body, settings):
    settings.API_ORDER_RATE_LIMIT = 1
    key = "6f1c1f0e-1111-4222-8333-444455556666"
    assert [post(body, key=key).status_code for _ in range(3)] == [201, 201, 201]
    assert post(body).status_code == 429
