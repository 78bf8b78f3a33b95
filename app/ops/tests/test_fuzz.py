"""Property-based: every public and staff page, driven with arbitrary text, numbers, dates and
Unicode in its query parameters and form fields, never answers 5xx, and a refused submission
stores nothing. Examples are bounded (EXAMPLES per view) so the module runs in well under a minute.
"""

from __future__ import annotations

import unicodedata
import uuid
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.models import TRANSITIONS, Order
from orders.phone import digit_count
from orders.tests.factories import make_order
from orders.validators import BIDI_CONTROLS

# Hundreds of generated requests per test: `make test` runs them, `make check` does not.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 25
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Anything a browser or a script could send: any Unicode (NUL and bidi controls included), numbers
# of every size, real dates, nearly-dates, and empty values.
numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)).map(str)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year}-{d.month}-{d.day + 1}"),
    st.from_regex(r"\A[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}\Z"),
)
anything = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from("\x00\u202e\u2066\ufffd²٣\n\r\t <>&'\"%"), max_size=12),
    numbers,
    dates,
    st.just(""),
)
value = st.one_of(anything, st.sampled_from(["received", "baking", "a", "b", "csv", "1", "large", "+45 12 34 56 78"]))


def some_of(**fields):
    """Dictionaries holding any subset of `fields`, each drawn from its strategy: a form or a query string."""
    return st.fixed_dictionaries({}, optional=fields)


def no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", password="pw-root-123")


@given(params=st.dictionaries(st.sampled_from(["pizza", "q", "x", "utm_source"]), value, max_size=3))
@fuzz
def test_public_pages_query_parameters(client, pizza, params):
    for url in ("/", "/order/"):
        no_server_error(client.get(url, params))


@given(token=anything)
@fuzz
def test_order_links_with_any_token(client, pizza, token):
    for url in (f"/orders/{quote(token, safe='')}/", f"/orders/{quote(token, safe='')}/confirmed/"):
        no_server_error(client.get(url))


@given(
    fields=some_of(
        form_token=st.one_of(anything, st.uuids().map(str)),
        pizza=st.one_of(anything, st.integers(0, 8).map(str)),
        size=st.one_of(anything, st.sampled_from(["small", "medium", "large"])),
        quantity=st.one_of(anything, st.integers(-5, 30).map(str)),
        customer_name=value,
        phone=value,
        address=value,
        comments=value,
    )
)
@fuzz
def test_order_form_never_5xx_and_stores_only_valid_orders(pizza, order_data, fields):
    client = Client()
    data = {**order_data, "form_token": str(uuid.uuid4()), **fields}
    before = Order.objects.count()
    response = client.post("/order/", data)
    no_server_error(response)
    stored = Order.objects.filter(form_token=data["form_token"]).first() if _is_uuid(data["form_token"]) else None
    if response.status_code != 303:
        assert Order.objects.count() == before
        return
    assert stored is not None
    # What was stored is valid whatever was sent.
    assert 1 <= stored.quantity <= 20 and stored.size in ("small", "medium", "large")
    assert 6 <= digit_count(stored.phone) <= 15
    for text in (stored.customer_name, stored.address, stored.comments):
        assert not BIDI_CONTROLS.search(text)
        assert all(ch in "\n\r\t" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in text)
    assert stored.customer_name.strip() and stored.address.strip()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


@given(params=some_of(status=value, variant=value, date_from=dates | anything, date_to=dates | anything, q=value, after=anything))
@fuzz
def test_staff_table_filters(staff_client, params):
    no_server_error(staff_client.get("/staff/orders/", params))


@given(expected=value, new=value, next_url=anything)
@fuzz
def test_staff_status_change_moves_only_along_a_transition(staff_client, expected, new, next_url):
    order = make_order()
    response = staff_client.post(f"/staff/orders/{order.reference}/status/", {"expected": expected, "status": new, "next": next_url})
    no_server_error(response)
    order.refresh_from_db()
    moved = order.status != "received"
    assert moved == (expected == "received" and new in TRANSITIONS["received"])


@given(reference=anything)
@fuzz
def test_staff_status_change_of_any_reference(staff_client, reference):
    no_server_error(staff_client.post(f"/staff/orders/{quote(reference, safe='')}/status/", {"expected": "received", "status": "baking"}))


@given(params=some_of(date_from=dates | anything, date_to=dates | anything, control=value, format=value))
@fuzz
def test_experiment_page_parameters(staff_client, params):
    no_server_error(staff_client.get("/staff/experiment/", params))


@given(username=value, password=value)
@fuzz
def test_login_forms(username, password):
    for url in ("/accounts/login/", "/admin/login/"):
        client = Client()
        no_server_error(client.post(url, {"username": username, "password": password}))


@given(params=some_of(q=value, status__exact=value, variant__exact=value, p=value, o=value))
@fuzz
def test_admin_order_list_parameters(superuser, params):
    client = Client()
    client.force_login(superuser)
    no_server_error(client.get("/admin/orders/order/", params))
