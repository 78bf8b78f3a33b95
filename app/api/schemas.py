"""The API's request and response shapes: what the OpenAPI document shows a client developer.

Limits a client can check before sending (lengths, the quantity range, the sizes) are read from the
web form's fields, so the schema and the form cannot disagree; the form still decides (orders.forms).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictInt, StrictStr

from orders.forms import PHONE, OrderForm
from orders.models import Size, Status

_form = OrderForm.base_fields


def text(name: str, description: str, required: bool = True, pattern: str | None = None):
    field = _form[name]
    return Annotated[
        StrictStr, Field(min_length=1 if required else 0, max_length=field.max_length, pattern=pattern, description=description)
    ]


SizeName = Literal[tuple(Size.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(Status.values)]  # type: ignore[valid-type]


class OrderIn(Schema):
    """A new order. Unknown fields are refused; every value must have the JSON type shown."""

    model_config = ConfigDict(extra="forbid", title="OrderIn")

    pizza: Annotated[StrictInt, Field(ge=1, le=2**31 - 1, description="A pizza `id` from GET /menu")]
    size: SizeName = Field(description="Pizza size")  # type: ignore[valid-type]
    quantity: Annotated[StrictInt, Field(ge=_form["quantity"].min_value, le=_form["quantity"].max_value, description="How many pizzas")]
    customer_name: text("customer_name", "Who receives the order")  # type: ignore[valid-type]
    phone: text("phone", "6 to 15 digits, optionally starting with +; spaces, dots, dashes and brackets allowed", pattern=PHONE.pattern)  # type: ignore[valid-type]
    address: text("address", "Delivery address; may span lines")  # type: ignore[valid-type]
    comments: text("comments", "For the kitchen or the driver", required=False) = ""  # type: ignore[valid-type]


class SizePrice(Schema):
    size: SizeName  # type: ignore[valid-type]
    price: str = Field(description='Decimal string, e.g. "9.60"')


class MenuPizza(Schema):
    id: int
    name: str
    description: str
    price: str = Field(description="Price of a medium pizza as a decimal string")
    sizes: list[SizePrice]


class Menu(Schema):
    pizzas: list[MenuPizza]
    currency: str = Field(description="ISO 4217 code of every price")


class Shop(Schema):
    open: bool = Field(description="False while the shop takes no orders (POST /orders answers 503)")


class TimelineStep(Schema):
    status: StatusName  # type: ignore[valid-type]
    label: str
    state: Literal["done", "current", "todo"]
    at: datetime | None = Field(description="When the order reached this step, when known")


class OrderOut(Schema):
    reference: str = Field(description="Short reference to read out over the phone")
    status: StatusName  # type: ignore[valid-type]
    status_label: str
    pizza: str
    size: SizeName  # type: ignore[valid-type]
    quantity: int
    total: str = Field(description="Decimal string")
    currency: str
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineStep]
    token: str = Field(description="The order's secret: GET /orders/{token} reads it. Only the placing request gets it")
    status_url: str


class FieldError(Schema):
    pointer: str = Field(description="JSON Pointer (RFC 6901) into the request body; empty for the whole body")
    detail: str
    code: str


class ProblemDoc(Schema):
    """RFC 9457 problem details, served as application/problem+json."""

    type: str = Field(description="URN naming the kind of problem, or about:blank")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = Field(None, description="Per-field errors of a 422")
