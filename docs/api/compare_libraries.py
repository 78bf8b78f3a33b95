"""One-off: django-ninja vs DRF + drf-spectacular on the order POST, side by side in one process.

    pip install django-ninja djangorestframework drf-spectacular
    cd app && TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        ../.venv/bin/python ../docs/api/compare_libraries.py [posts-per-round] [rounds]

Both endpoints do the same work: parse the JSON body into a strict declared schema (no coercion, unknown
fields refused), run the shared OrderForm and services.place_order, answer 201 with the order as JSON.
Rounds alternate between the two so machine noise hits both alike. Figures: docs/api/README.md.
"""

import os
import statistics
import sys
import time
import uuid

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
sys.path.insert(0, os.getcwd())
django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI, Schema  # noqa: E402
from pydantic import ConfigDict, StrictInt, StrictStr  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.decorators import api_view, authentication_classes, parser_classes, permission_classes  # noqa: E402
from rest_framework.parsers import JSONParser  # noqa: E402
from rest_framework.response import Response  # noqa: E402

from orders.forms import OrderForm  # noqa: E402
from orders.services import place_order  # noqa: E402

# NO_INSERT=1 stops after validation: what each library adds, without the INSERT's commit wait.
NO_INSERT = os.environ.get("NO_INSERT") == "1"


def order_json(order):
    return {"reference": order.reference, "status": order.status, "total": str(order.total)}


def place(data, key):
    form = OrderForm(data={**{k: str(v) for k, v in data.items()}, "form_token": key})
    assert form.is_valid(), form.errors
    if NO_INSERT:  # the library's own cost, without PostgreSQL's commit
        return {"reference": "-", "status": "received", "total": "0"}
    order, _ = place_order(form.cleaned_data, form.cleaned_data["form_token"], channel="api")
    return order_json(order)


# --- django-ninja -------------------------------------------------------------------------
class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")
    pizza: StrictInt
    size: StrictStr
    quantity: StrictInt
    customer_name: StrictStr
    phone: StrictStr
    address: StrictStr
    comments: StrictStr = ""


ninja_api = NinjaAPI(urls_namespace="bench_ninja")


@ninja_api.post("/orders", response={201: dict})
def ninja_order(request, payload: OrderIn):
    return 201, place(payload.model_dump(), request.headers["Idempotency-Key"])


# --- DRF ----------------------------------------------------------------------------------
class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntField(serializers.IntegerField):
    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class OrderSerializer(serializers.Serializer):
    pizza = StrictIntField()
    size = StrictCharField()
    quantity = StrictIntField()
    customer_name = StrictCharField()
    phone = StrictCharField()
    address = StrictCharField()
    comments = StrictCharField(required=False, default="", allow_blank=True)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({k: "Unknown field." for k in unknown})
        return attrs


@api_view(["POST"])
@authentication_classes([])
@permission_classes([])
@parser_classes([JSONParser])
def drf_order(request):
    serializer = OrderSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(place(serializer.validated_data, request.headers["Idempotency-Key"]), status=201)


urlpatterns = [path("ninja/", ninja_api.urls), path("drf/orders", drf_order)]


def run(client, url, body, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        times.append(time.perf_counter() - start)
        assert response.status_code == 201, response.content
    return times


def main():
    import json

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    setup_test_environment()
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        from orders.models import Pizza
        from orders.tests.factories import ensure_seed

        ensure_seed()
        pizza = Pizza.objects.filter(active=True).first()
        body = json.dumps(
            {"pizza": pizza.pk, "size": "small", "quantity": 2, "customer_name": "Bench", "phone": "+4512345678", "address": "Somewhere 1"}
        )
        with override_settings(
            ROOT_URLCONF=__name__, REQUEST_LOG=False, RECORD_EXPOSURES=False, INSTALLED_APPS=settings.INSTALLED_APPS + ["rest_framework"]
        ):
            client = Client()
            results = {"django-ninja": [], "DRF": []}
            urls = {"django-ninja": "/ninja/orders", "DRF": "/drf/orders"}
            for name in results:  # warm-up
                run(client, urls[name], body, 30)
            for r in range(rounds):
                order = list(results) if r % 2 == 0 else list(reversed(results))
                for name in order:
                    t = run(client, urls[name], body, n)
                    results[name].append(t)
            print(f"{n} POSTs x {rounds} rounds each, alternating; INSERT {'off' if NO_INSERT else 'on'}")
            for name, rs in results.items():
                all_t = sorted(x for r in rs for x in r)
                rates = [len(r) / sum(r) for r in rs]
                print(
                    f"{name:13s} {statistics.median(rates):7.0f} req/s (rounds {min(rates):.0f}-{max(rates):.0f})"
                    f"  p50 {all_t[len(all_t) // 2] * 1000:.2f} ms  p99 {all_t[int(len(all_t) * 0.99)] * 1000:.2f} ms"
                )
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
