"""Bad input: always a 4xx problem document, never HTML, never a 5xx, nothing stored."""

import json

import pytest

from api.models import IdempotencyKey
from orders.models import Order

pytestmark = pytest.mark.django_db


def assert_problem(response, status, kind=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    doc = response.json()
    assert doc["status"] == status and doc["title"]
    if kind:
        assert doc["type"] == f"urn:pizza:problem:{kind}"
    assert Order.objects.count() == 0 and IdempotencyKey.objects.count() == 0
    return doc


@pytest.mark.parametrize(
    "field,value",
    [
        ("customer_name", None),
        ("customer_name", True),
        ("customer_name", ["a", "b"]),
        ("customer_name", {"a": 1}),
        ("customer_name", 42),
        ("quantity", "3"),
        ("quantity", 3.0),
        ("quantity", True),
        ("pizza", "1"),
        ("size", "huge"),
        ("quantity", 10**40),
    ],
)
def test_wrong_json_types_are_refused_not_stringified(post, body, field, value):
    doc = assert_problem(post({**body, field: value}), 422, "validation")
    assert [e["pointer"] for e in doc["errors"]] == [f"/{field}"]


def test_unknown_fields_are_refused(post, body):
    doc = assert_problem(post({**body, "discount": 100}), 422, "validation")
    assert doc["errors"][0]["pointer"] == "/discount" and doc["errors"][0]["code"] == "extra_forbidden"


def test_missing_fields_are_named(post, body):
    del body["phone"]
    doc = assert_problem(post(body), 422, "validation")
    assert doc["errors"][0]["pointer"] == "/phone"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_refused(post, raw):
    assert_problem(post(raw), 422, "validation")


@pytest.mark.parametrize("raw", [b"{not json", b'{"pizza": NaN}', b"\xff\xfe{}", b'{"a": "\xc3\x28"}'])
def test_malformed_json_or_utf8_is_400(post, raw):
    assert_problem(post(raw), 400, "malformed-body")


def test_deep_nesting_is_refused_before_parsing(post, body):
    deep = b'{"comments": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    doc = assert_problem(post(deep), 400, "malformed-body")
    assert "nested" in doc["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(post, body):
    response = post({**body, "comments": "[[[[" * 100 + '{"\\"'})
    assert response.status_code == 201


@pytest.mark.parametrize("size", [20 * 1024, 300 * 1024])
def test_a_body_over_the_limit_is_413(post, body, size):
    assert_problem(post({**body, "comments": "x" * size}), 413, "body-too-large")


def test_a_form_encoded_body_is_415(post, body):
    assert_problem(post("pizza=1", content_type="application/x-www-form-urlencoded"), 415)


@pytest.mark.parametrize("key", [None, "", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_missing_nil_or_malformed_key_is_400(post, body, key):
    kind = "idempotency-key-missing" if not key else "idempotency-key-malformed"
    assert_problem(post(body, key=key), 400, kind)


@pytest.mark.parametrize(
    "method,path", [("put", "/api/v1/orders"), ("delete", "/api/v1/menu"), ("get", "/api/v1/nothing"), ("post", "/api/v1/menu")]
)
def test_wrong_paths_and_methods_are_problems_too(client, pizza, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in (404, 405)
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == response.status_code
