"""The customer's order form and the staff table's filters."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from .menu import menu_pizza
from .models import Pizza, Size, Status
from .phone import digit_count, normalise_phone
from .validators import no_bidi_controls

PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,22}$")


def no_control_characters(multiline: bool):
    allowed = {"\n", "\r", "\t"} if multiline else set()

    def validate(value: str) -> None:
        for ch in value:
            if ch not in allowed and unicodedata.category(ch) in {"Cc", "Cs"}:
                raise ValidationError("Please remove control characters (for example tabs or NUL) from this field.", code="control")

    return validate


def clean_phone(value: str) -> str:
    """A plausible phone number, stored in its canonical form (see orders.phone)."""
    value = value.strip()
    if not PHONE.match(value):
        raise ValidationError("Enter a phone number: digits, optionally starting with + (for example +45 12 34 56 78).", code="phone")
    if not 6 <= digit_count(value) <= 15:
        raise ValidationError("A phone number has 6 to 15 digits.", code="phone")
    return normalise_phone(value)


class MenuChoiceField(forms.ModelChoiceField):
    """A pizza of the menu, checked against the menu's cached copy (menu.menu_pizza) instead of the
    queryset's get(); the order's INSERT checks it in the database. The choices shown are still the queryset's."""

    # The largest id a bigint holds: anything beyond is no pizza (and never reaches the database).
    MAX_ID = 2**63 - 1

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        if isinstance(value, Pizza):
            value = value.pk
        try:
            pk = int(value)
        except (TypeError, ValueError):
            pk = None
        pizza = menu_pizza(pk) if pk is not None and -self.MAX_ID <= pk <= self.MAX_ID else None
        if pizza is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return pizza


class SharedChoiceFields(dict):
    """A form's base_fields whose per-form copy is shallow where nothing changes per form.

    Django deep-copies every field of every form instance (choices lists, the menu's queryset, each
    widget): 90% of building an OrderForm, a tenth of the order POST's CPU (docs/bench.md). Here each
    field, its widget, the widget's attrs, error messages and validators are still copied per form
    (what a form or its rendering may change); the choices and the menu queryset, which no form of
    this app changes after the class is defined, are shared.
    """

    def __deepcopy__(self, memo):
        return {name: light_copy(field) for name, field in self.items()}


def light_copy(field: forms.Field) -> forms.Field:
    result = shallow_copy(field)
    result.widget = shallow_copy(field.widget)
    result.widget.attrs = field.widget.attrs.copy()
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    return result


def shallow_copy(obj):
    """What copy.copy does for a field or a widget (neither defines __copy__ or __slots__), without the
    pickle protocol's detour: a third of the cost, 18 copies per order form (docs/bench.md)."""
    result = object.__new__(type(obj))
    result.__dict__.update(obj.__dict__)
    return result


class OrderForm(forms.Form):
    form_token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form has expired. Please check your order and send it again.",
            "invalid": "This form has expired. Please check your order and send it again.",
        },
    )
    # shown_by: the variant that rendered this form, signed (experiment.tokens); read in the view, never trusted unsigned.
    shown_by = forms.CharField(required=False, widget=forms.HiddenInput)
    pizza = MenuChoiceField(
        queryset=Pizza.objects.filter(active=True),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a pizza from the menu.", "required": "Choose a pizza from the menu."},
    )
    size = forms.ChoiceField(
        choices=Size.choices,
        initial=Size.MEDIUM,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose small, medium or large."},
    )
    quantity = forms.IntegerField(
        min_value=1,
        max_value=20,
        initial=1,
        error_messages={
            "invalid": "Quantity must be a whole number from 1 to 20.",
            "min_value": "Quantity must be at least 1.",
            "max_value": "We bake at most 20 pizzas per order; call us for more.",
            "required": "How many pizzas?",
        },
    )
    customer_name = forms.CharField(label="Name", max_length=100, validators=[no_control_characters(False), no_bidi_controls])
    phone = forms.CharField(max_length=24, validators=[no_control_characters(False)])
    address = forms.CharField(
        label="Delivery address",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[no_control_characters(True), no_bidi_controls],
    )
    comments = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[no_control_characters(True), no_bidi_controls],
    )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_customer_name(self) -> str:
        return " ".join(self.cleaned_data["customer_name"].split())


OrderForm.base_fields = SharedChoiceFields(OrderForm.base_fields)


class StaffFilterForm(forms.Form):
    """Filters of the staff order table; every field is optional and invalid ones are ignored."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    variant = forms.ChoiceField(required=False, choices=[("", "Any variant")])
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        validators=[no_control_characters(False)],
        widget=forms.TextInput(attrs={"placeholder": "Reference, name or phone"}),
    )

    def __init__(self, *args, variants: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [("", "Any variant"), *[(v, v.upper()) for v in variants]]


# Each form's variant choices are set on its own copy of the field and widget (light_copy copies both).
StaffFilterForm.base_fields = SharedChoiceFields(StaffFilterForm.base_fields)
