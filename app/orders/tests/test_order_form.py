"""Placing an order: the valid path, and every bad input refused with nothing stored."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, Pizza

pytestmark = pytest.mark.django_db

ORDER_URL = "/order/"


def test_form_page_carries_a_one_time_token(client):
    response = client.get(ORDER_URL)
    assert response.status_code == 200
    token = response.context["form"].initial["form_token"]
    assert isinstance(token, uuid.UUID)
    assert str(token) in response.content.decode()


def test_valid_order_redirects_to_confirmation_with_reference(client, order_data):
    response = client.post(ORDER_URL, order_data)
    assert response.status_code == 303
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:confirmation", args=[order.access_token])
    page = client.get(response["Location"])
    assert order.reference in page.content.decode()
    assert reverse("orders:order_status", args=[order.access_token]) in page.content.decode()


def test_order_records_price_variant_and_normalised_phone(client, order_data, pizza, settings):
    client.post(ORDER_URL, order_data)
    order = Order.objects.get()
    assert order.variant == settings.VARIANT
    assert order.unit_price == (pizza.price * 13 / 10).quantize(pizza.price)
    assert order.total == order.unit_price * 2
    assert order.phone == "+4512345678"
    assert order.status == "received"


def test_reference_is_not_the_database_id(client, order_data):
    client.post(ORDER_URL, order_data)
    order = Order.objects.get()
    assert order.reference != str(order.pk) and not order.reference.isdigit()
    assert len(order.reference) >= 10 and len(order.access_token) >= 40


def test_status_page_opens_only_with_the_token(client, order_data):
    client.post(ORDER_URL, order_data)
    order = Order.objects.get()
    assert client.get(f"/orders/{order.access_token}/").status_code == 200
    assert client.get(f"/orders/{order.reference}/").status_code == 404
    assert client.get(f"/orders/{order.pk}/").status_code == 404


def test_resubmitting_the_same_form_gives_back_the_same_order(client, order_data):
    first = client.post(ORDER_URL, order_data)
    second = client.post(ORDER_URL, order_data)
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_retry_with_changed_fields_still_lands_on_the_first_order(client, order_data):
    client.post(ORDER_URL, order_data)
    client.post(ORDER_URL, dict(order_data, quantity="5"))
    assert Order.objects.get().quantity == 2


MENU_ONLY = "Choose a pizza from the menu."
# What each field refuses: case -> (the value posted, what the message under the field says).
BAD_INPUTS = {
    "pizza": {
        "unknown pizza": ("999999", MENU_ONLY),
        "pizza not a number": ("pepperoni", MENU_ONLY),
        "pizza id beyond bigint": ("9" * 30, MENU_ONLY),
        "pizza id negative": ("-1", MENU_ONLY),
        "pizza id not whole": ("1.0", MENU_ONLY),
    },
    "quantity": {
        "quantity zero": ("0", "at least 1"),
        "quantity negative": ("-3", "at least 1"),
        "quantity huge": ("99999999999999999999", "at most 20"),
        "quantity not a number": ("two", "whole number"),
        "quantity decimal": ("1.5", "whole number"),
    },
    "size": {"unknown size": ("gigantic", "small, medium or large")},
    "customer_name": {
        "missing name": ("", "required"),
        "name too long": ("N" * 101, "at most 100"),
        "NUL in name": ("Ada\x00Lovelace", "Null characters are not allowed"),
    },
    "phone": {
        "missing phone": ("", "required"),
        "bad phone": ("call me maybe", "phone number"),
        "newline in phone": ("+4512\n345678", "control characters"),
    },
    "address": {"missing address": ("", "required"), "control char in address": ("Street\x07 1", "control characters")},
    "comments": {"comments 100 kB": ("x" * 100_000, "at most 1000"), "escape in comments": ("hi\x1b[31m", "control characters")},
    "form_token": {"missing form token": ("", "expired"), "malformed form token": ("not-a-uuid", "expired")},
}


@pytest.mark.parametrize(
    "field,value,message",
    [pytest.param(field, value, message, id=case) for field, cases in BAD_INPUTS.items() for case, (value, message) in cases.items()],
)
def test_bad_input_is_refused_with_a_message_and_nothing_stored(client, order_data, field, value, message):
    response = client.post(ORDER_URL, {**order_data, field: value})
    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Order.objects.count() == 0


def test_missing_fields_entirely_are_refused(client):
    response = client.post(ORDER_URL, {})
    assert response.status_code == 422
    assert Order.objects.count() == 0


def test_inactive_pizza_cannot_be_ordered(client, order_data, pizza):
    Pizza.objects.filter(pk=pizza.pk).update(active=False)
    response = client.post(ORDER_URL, order_data)
    assert response.status_code == 422
    assert "Choose a pizza from the menu." in response.context["form"].errors["pizza"]
    assert Order.objects.count() == 0


def test_pizza_withdrawn_after_the_menu_was_read_is_refused_at_the_insert(client, order_data, pizza):
    """The form validates against this process's copy of the pizzas chosen lately; the INSERT checks the database."""
    assert client.post(ORDER_URL, order_data).status_code == 303  # this process has now read the pizza
    Pizza.objects.filter(pk=pizza.pk).update(active=False)  # as another process would: the copy is not dropped
    response = client.post(ORDER_URL, {**order_data, "form_token": str(uuid.uuid4())})
    assert response.status_code == 422
    assert "That pizza has just left the menu. Please choose another." in response.context["form"].errors["pizza"]
    assert Order.objects.count() == 1


def test_price_changed_after_the_menu_was_read_is_charged_at_the_new_price(client, order_data, pizza):
    assert client.post(ORDER_URL, order_data).status_code == 303  # this process has now read the pizza
    Pizza.objects.filter(pk=pizza.pk).update(price=pizza.price + 1)
    assert client.post(ORDER_URL, {**order_data, "form_token": str(uuid.uuid4())}).status_code == 303
    order = Order.objects.latest("id")
    assert order.unit_price == ((pizza.price + 1) * 13 / 10).quantize(pizza.price)
    assert order.total == order.unit_price * 2


def test_a_retry_after_the_pizza_was_withdrawn_still_finds_its_order(client, order_data, pizza):
    first = client.post(ORDER_URL, order_data)
    Pizza.objects.filter(pk=pizza.pk).update(active=False)
    again = client.post(ORDER_URL, order_data)
    assert again.status_code == 303
    assert again["Location"].startswith(first["Location"])
    assert Order.objects.count() == 1


def test_missing_csrf_token_gets_a_clear_page_and_no_order(order_data):
    client = Client(enforce_csrf_checks=True)
    response = client.post(ORDER_URL, order_data)
    assert response.status_code == 403
    assert "Your form could not be checked" in response.content.decode()
    assert Order.objects.count() == 0


def test_wrong_csrf_token_gets_a_clear_page_and_no_order(order_data):
    client = Client(enforce_csrf_checks=True)
    client.get(ORDER_URL)
    response = client.post(ORDER_URL, {**order_data, "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert "Nothing was ordered" in response.content.decode()
    assert Order.objects.count() == 0


def test_valid_csrf_token_is_accepted(order_data):
    client = Client(enforce_csrf_checks=True)
    page = client.get(ORDER_URL)
    token = page.context["csrf_token"]
    response = client.post(ORDER_URL, {**order_data, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 303
    assert Order.objects.count() == 1


def test_oversized_body_is_refused_without_a_500(client, order_data):
    response = client.post(ORDER_URL, {**order_data, "comments": "y" * 400_000})
    assert response.status_code == 413  # with the themed page naming the limit (ops tests: test_security)
    assert "256 KB" in response.content.decode()
    assert Order.objects.count() == 0


def test_get_of_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "could not find" in response.content.decode()


def test_put_is_refused_with_405(client):
    assert client.put(ORDER_URL).status_code == 405


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "99999999999999999999", "-1", "abc"])
def test_a_menu_link_with_a_strange_pizza_id_still_shows_the_form(client, pizza, value):
    """'²' and Arabic-Indic digits pass str.isdigit() but not int(): the form opens with nothing chosen."""
    response = client.get(f"/order/?pizza={value}")
    assert response.status_code == 200
    assert response.context["form"].initial.get("pizza") is None


def test_a_menu_link_preselects_its_pizza(client, pizza):
    response = client.get(f"/order/?pizza={pizza.pk}")
    assert response.context["form"].initial["pizza"] == pizza.pk


def test_a_resubmission_with_other_details_shows_the_placed_order_and_says_so(client, order_data):
    first = client.post("/order/", order_data)
    changed = client.post("/order/", {**order_data, "quantity": "5", "address": "Elsewhere 9"})
    assert changed.status_code == 303 and changed["Location"].startswith(first["Location"])
    page = client.get(changed["Location"]).content.decode()
    assert "already placed" in page and "Elsewhere 9" not in page
    order = Order.objects.get()
    assert order.quantity == 2


def test_a_plain_retry_shows_the_order_without_the_notice(client, order_data):
    first = client.post("/order/", order_data)
    again = client.post("/order/", order_data)
    assert again["Location"] == first["Location"]
    assert "already placed" not in client.get(again["Location"]).content.decode()


def test_an_invalid_resubmission_of_a_placed_order_says_so_too(client, order_data):
    client.post("/order/", order_data)
    changed = client.post("/order/", {**order_data, "quantity": "0"})
    assert changed.status_code == 303 and "already placed" in client.get(changed["Location"]).content.decode()


def test_forms_copy_what_they_may_change_and_still_list_the_menu(pizza):
    """OrderForm's fields are copied lightly per form (forms.SharedChoiceFields): one form's widget
    attributes, messages and validators never reach another, and every form still offers the menu."""
    from orders.forms import OrderForm

    first, second = OrderForm({}), OrderForm()
    first.fields["quantity"].widget.attrs["data-changed"] = "1"
    first.fields["quantity"].error_messages["required"] = "changed"
    first.fields["quantity"].validators.append(lambda value: None)
    assert "data-changed" not in second.fields["quantity"].widget.attrs
    assert second.fields["quantity"].error_messages["required"] == "How many pizzas?"
    assert len(second.fields["quantity"].validators) == len(OrderForm.base_fields["quantity"].validators)
    assert first.fields["pizza"] is not second.fields["pizza"]
    assert not first.is_valid() and second.errors == {}
    assert f'value="{pizza.pk}"' in str(first["pizza"]) and f'value="{pizza.pk}"' in str(second["pizza"])


def test_the_forms_light_copy_is_what_copy_copy_would_give():
    """forms.shallow_copy skips copy.copy's pickle protocol; that is only the same copy while no field
    or widget of the form defines __copy__ or __slots__ (a new field type might)."""
    import copy

    from orders.forms import OrderForm, StaffFilterForm, shallow_copy

    for field in [*OrderForm.base_fields.values(), *StaffFilterForm.base_fields.values()]:
        for obj in (field, field.widget):
            assert not any("__copy__" in vars(k) or "__slots__" in vars(k) for k in type(obj).__mro__[:-1]), type(obj)
            assert shallow_copy(obj).__dict__ == copy.copy(obj).__dict__


def test_each_staff_filter_form_has_its_own_variant_choices():
    from orders.forms import StaffFilterForm

    first, second = StaffFilterForm(variants=["a", "b"]), StaffFilterForm(variants=["c"])
    assert [v for v, _ in first.fields["variant"].choices] == ["", "a", "b"]
    assert [v for v, _ in second.fields["variant"].choices] == ["", "c"]
    assert 'value="b"' in str(first["variant"]) and 'value="b"' not in str(second["variant"])
