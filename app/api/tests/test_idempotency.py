"""Idempotency-Key per the IETF draft: replay, reuse, in flight, expiry."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from api.idempotency import fingerprint
from api.models import IdempotencyKey
from api.schemas import OrderIn
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_original_response(post, body):
    key = str(uuid.uuid4())
    first = post(body, key=key)
    again = post(dict(reversed(list(body.items()))), key=key)  # key order and spacing do not matter
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 1


def test_same_key_other_body_is_422_and_reveals_nothing(post, body):
    key = str(uuid.uuid4())
    first = post(body, key=key).json()
    response = post({**body, "address": "Somewhere else"}, key=key)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:pizza:problem:idempotency-key-reused"
    text = response.content.decode()
    assert first["token"] not in text and first["reference"] not in text
    assert Order.objects.count() == 1


def in_flight_row(body, key, started_ago: float):
    now = timezone.now()
    return IdempotencyKey.objects.create(
        key=key,
        fingerprint=fingerprint(OrderIn(**body).model_dump()),
        started_at=now - timedelta(seconds=started_ago),
        expires_at=now + timedelta(hours=24),
    )


def test_a_key_whose_first_request_is_still_running_is_409(post, body):
    key = uuid.uuid4()
    in_flight_row(body, key, started_ago=1)
    response = post(body, key=str(key))
    assert response.status_code == 409 and response["Retry-After"]
    assert response.json()["type"] == "urn:pizza:problem:idempotency-key-in-flight"
    assert Order.objects.count() == 0


def test_a_dead_attempt_is_taken_over_once_stale(post, body, settings):
    key = uuid.uuid4()
    in_flight_row(body, key, started_ago=settings.API_IDEMPOTENCY_IN_FLIGHT_SECONDS + 1)
    response = post(body, key=str(key))
    assert response.status_code == 201 and Order.objects.count() == 1
    assert post(body, key=str(key))["Idempotent-Replayed"] == "true"


def test_refused_input_frees_the_key_for_a_corrected_request(post, body):
    key = str(uuid.uuid4())
    assert post({**body, "phone": "nope"}, key=key).status_code == 422
    assert post(body, key=key).status_code == 201


def test_expired_keys_are_purged_and_live_ones_kept(post, body):
    post(body)
    post(body)
    IdempotencyKey.objects.filter(pk=IdempotencyKey.objects.first().pk).update(expires_at=timezone.now())
    call_command("purge_idempotency_keys", stdout=open("/dev/null", "w"))
    assert IdempotencyKey.objects.count() == 1 and Order.objects.count() == 2


def test_an_expired_record_is_not_replayed(post, body):
    key = str(uuid.uuid4())
    post(body, key=key)
    IdempotencyKey.objects.update(expires_at=timezone.now())
    # Its order still holds the key as its one-time token: a different body must not get it.
    response = post({**body, "quantity": 1}, key=key)
    assert response.status_code == 422 and Order.objects.count() == 1
