"""Security and bad input (issue 16): each finding of the outside review, one behaviour per test.
Staff accounts, roles, logins and lockout: test_staff_accounts.py."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from waffle.models import Switch

from config.limits import MAX_DRAIN_BYTES, MAX_FORM_BYTES
from orders.models import Order
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db

APP_DIR = Path(__file__).resolve().parents[2]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


# --- bad input ------------------------------------------------------------------------------


def test_invalid_utf8_form_body_is_refused_with_400_and_nothing_stored(client, order_data):
    body = "&".join(f"{k}={v}" for k, v in {**order_data, "customer_name": "Ann"}.items() if k != "address")
    body = body.encode() + b"&address=1+Road%FF%FE&customer_name=Ann%C3"
    response = client.post("/order/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert Order.objects.count() == 0


def test_invalid_utf8_in_a_multipart_form_is_refused_too(client, order_data):
    boundary = "XyZ"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in order_data.items()
        if k != "customer_name"
    ]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="customer_name"\r\n\r\n'.encode() + b"Ann\xff\xfe\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = client.post("/order/", body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert Order.objects.count() == 0


@pytest.mark.parametrize("field", ["customer_name", "address", "comments"])
@pytest.mark.parametrize("char", BIDI)
def test_bidi_controls_are_refused_with_a_message(client, order_data, field, char):
    response = client.post("/order/", {**order_data, field: f"Ann {char}evil"})
    assert response.status_code == 422
    assert "text-direction characters" in response.content.decode()
    assert Order.objects.count() == 0


def test_bidi_controls_are_refused_in_the_admin_too(django_user_model):
    order = make_order()
    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client = Client()
    client.force_login(admin)
    url = f"/admin/orders/order/{order.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(pizza=order.pizza_id, customer_name="Ann \u202eevil", size="medium", quantity=1)
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "text-direction characters" in response.content.decode()
    order.refresh_from_db()
    assert order.customer_name == "Grace Hopper"


def test_oversized_body_gets_413_themed_page_naming_the_limit(client, order_data):
    response = client.post("/order/", {**order_data, "comments": "x" * (MAX_FORM_BYTES + 1)})
    assert response.status_code == 413
    html = response.content.decode()
    assert "256 KB" in html and 'data-theme="' in html and "site-header" in html
    assert Order.objects.count() == 0


def test_too_many_fields_gets_a_themed_400_not_django_bare_text(client):
    response = client.post("/order/", "&".join(f"f{i}=1" for i in range(500)), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "site-header" in response.content.decode()


@pytest.mark.parametrize("url", ["/orders/%00/", "/staff/orders/%00/status/", "/?q=%00", "/admin/orders/order/?q=a%00"])
def test_nul_in_the_url_is_a_400(staff_client, url):
    assert staff_client.get(url).status_code in (400, 404)
    if "?" in url:
        assert staff_client.get(url).status_code == 400


def test_redirect_after_status_change_never_reads_next_as_a_view_name(staff_client):
    order = make_order()
    response = staff_client.post(f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking", "next": "0"})
    assert response.status_code == 302


def test_load_balancer_refuses_only_what_the_app_would_not_drain():
    """Layers agree: the app's form limit is what users meet; HAProxy refuses above the drain cap."""
    from config.variants import load_variants
    from stack.local.haproxy import render
    from stack.local.ports import PortPlan

    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == MAX_FORM_BYTES < MAX_DRAIN_BYTES
    config = render(load_variants("dev"), PortPlan(), Path("/tmp/x.sock"))
    deny = [line.strip() for line in config.splitlines() if "deny_status 413" in line]
    assert deny and deny[0].startswith(f"http-request deny deny_status 413 if {{ req.hdr_val(content-length) gt {MAX_DRAIN_BYTES} }}")


# --- headers and caching --------------------------------------------------------------------


def test_csp_without_unsafe_inline_and_permissions_policy_everywhere(staff_client, pizza):
    for url in ("/", "/order/", "/staff/orders/", "/staff/experiment/", "/accounts/login/", "/admin/login/"):
        response = staff_client.get(url)
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        assert "camera=()" in response["Permissions-Policy"], url


def test_csp_header_built_once_is_django_csps_and_follows_a_settings_change(client, pizza, settings):
    from csp.utils import build_policy

    assert client.get("/").headers["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/").headers["Content-Security-Policy"] == "default-src 'none'"


def test_pages_with_personal_data_are_never_stored(staff_client, django_user_model, order_data):
    placed = Client().post("/order/", order_data)
    confirmation = Client().get(placed["Location"])
    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    admin_client = Client()
    admin_client.force_login(admin)
    for response in (
        confirmation,
        staff_client.get("/staff/orders/"),
        staff_client.get("/staff/experiment/"),
        staff_client.get("/staff/experiment/?format=csv"),
        admin_client.get("/admin/orders/order/"),
    ):
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/", "/order/"])
def test_head_answers_like_get_without_a_body(client, pizza, url):
    get = client.get(url)
    head = client.head(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


def test_head_of_a_confirmation(client, order_data):
    location = client.post("/order/", order_data)["Location"]
    assert client.head(location).status_code == 200


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture
def log_lines():
    """The JSON lines the stdout handler writes (with its filters), as parsed objects."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "formatter", None).__class__.__name__ == "JsonFormatter")
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    handler.setStream(old)


def test_a_closed_shop_503_is_not_logged_as_an_error(client, order_data, log_lines):
    Switch.objects.filter(name="orders_open").update(active=False)
    assert client.post("/order/", order_data).status_code == 503
    lines = log_lines()
    assert lines and not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]


def test_a_refused_client_request_logs_a_warning_without_traceback(client, log_lines):
    client.post("/order/", "&".join(f"f{i}=1" for i in range(500)), content_type="application/x-www-form-urlencoded")
    client.get("/", HTTP_HOST="evil.example")
    lines = log_lines()
    assert any(line["logger"].startswith("django.security") for line in lines)
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL") or "exception" in line]


# --- production start-up --------------------------------------------------------------------


def production(secret_key: str, *command: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "shop.example.com",
        "DATABASE_URL": os.environ.get("TEST_DATABASE_URL", ""),
    }
    return subprocess.run([sys.executable, "manage.py", *command], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_a_low_entropy_secret_key_stops_production_start_up():
    """`check --deploy` with a good key: test_settings.py."""
    result = production("a" * 60, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not random enough" in result.stderr and "Traceback" not in result.stderr
