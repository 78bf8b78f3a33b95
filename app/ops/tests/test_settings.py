"""Configuration comes from the environment, and a wrong value stops the process at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "test-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",  # random-looking: 16+ distinct characters
    "ALLOWED_HOSTS": "pizza.example.com",
    "DATABASE_URL": "postgres://pizza@db.invalid:5432/pizza",
}


def run(args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("VARIANT", "THEME", "DJANGO_SETTINGS_MODULE")}
    full.update(env)
    return subprocess.run([sys.executable, *args], cwd=APP_DIR, env=full, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "name,value,allowed",
    [
        ("THEME", "neon", "bold, classic, minimal"),
        ("VARIANT", "z", "a, b, c"),
    ],
)
def test_unknown_theme_or_variant_stops_start_up_with_one_line(name, value, allowed):
    result = run(["-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "config.wsgi"], **PRODUCTION, **{name: value})
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message == f"pizza: {name}={value!r} is not one of {allowed}" + (
        " (environments/dev/variants.yaml)" if name == "VARIANT" else ""
    )
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_secret_key():
    result = run(["manage.py", "check"], **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "pizza: You must set SECRET_KEY (50 characters or more) in production"


def test_check_deploy_gives_no_warning_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_url_picks_the_database():
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['CONN_MAX_AGE'])"
    result = run(["-c", f"import django; django.setup(); {code}"], **PRODUCTION)
    assert result.stdout.split() == ["config.postgresql", "db.invalid", "300"]


def test_split_database_variables_from_the_chart_are_understood():
    env = {**PRODUCTION, "DATABASE_URL": "", "DATABASE_HOST": "rds.invalid", "DATABASE_USER": "pizza", "DATABASE_PASSWORD": "from-secret"}
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['USER'], d['OPTIONS']['sslmode'])"
    result = run(["-c", f"import django; django.setup(); {code}"], **env)
    assert result.stdout.split() == ["config.postgresql", "rds.invalid", "pizza", "require"]


def test_logs_are_one_json_object_per_line_with_the_request_id(client, caplog):
    import json
    import logging

    from ops.logging import JsonFormatter, RequestIdFilter, request_id_var

    token = request_id_var.set("req-12345678")
    try:
        record = logging.LogRecord("pizza.request", logging.INFO, __file__, 1, "GET / 200", None, None)
        RequestIdFilter().filter(record)
        record.status = 200
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    parsed = json.loads(line)
    assert parsed["request_id"] == "req-12345678" and parsed["status"] == 200 and parsed["message"] == "GET / 200"
    assert "\n" not in line


# The ALB without a domain has only an HTTP listener (terraform/alb.tf); the chart then sets
# PUBLIC_SCHEME=http. A request as the ALB forwards it must reach the app, not bounce to https://.
ALB_REQUEST = (
    "import django; django.setup(); from django.test import Client; "
    "r = Client().get('/', HTTP_HOST='pizza-dev-123.us-east-1.elb.amazonaws.com', HTTP_X_FORWARDED_PROTO='http'); "
    "print(r.status_code, r.get('Location', '-'))"
)


@pytest.mark.parametrize("scheme,redirected", [("https", True), ("http", False)])
def test_the_https_redirect_follows_the_albs_listener(scheme, redirected):
    env = {**PRODUCTION, "ALLOWED_HOSTS": "pizza-dev-123.us-east-1.elb.amazonaws.com", "PUBLIC_SCHEME": scheme}
    result = run(["-c", ALB_REQUEST], **env)
    status, location = result.stdout.split()
    assert (status == "301" and location.startswith("https://")) is redirected, result.stdout + result.stderr
    # http: the request got past the host check and the redirect (503: db.invalid does not exist).
    assert redirected or status == "503"


def test_an_unknown_public_scheme_stops_start_up():
    result = run(["manage.py", "check"], **{**PRODUCTION, "PUBLIC_SCHEME": "ftp"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "pizza: PUBLIC_SCHEME='ftp' is not one of https, http"


def test_the_wsgi_module_compiles_every_template_before_gunicorn_forks():
    """gunicorn preloads config.wsgi in its master: the pages' templates, their theme's parents
    (cached under their own skip keys) and the form widgets' templates are compiled there, so no
    worker compiles on its first requests. No database is needed for it (db.invalid here)."""
    code = (
        "import config.wsgi; from django.template import engines; from django.forms.renderers import get_default_renderer; "
        "print(' '.join(sorted(engines['django'].engine.template_loaders[0].get_template_cache))); "
        "print(' '.join(sorted(get_default_renderer().engine.engine.template_loaders[0].get_template_cache)))"
    )
    result = run(["-c", code], **PRODUCTION, THEME="bold")
    assert result.returncode == 0, result.stderr
    pages, widgets = (line.split() for line in result.stdout.strip().splitlines()[-2:])
    shared = {"base.html", "orders/home.html", "orders/order_form.html", "orders/staff/order_list.html", "experiment/report.html"}
    assert shared <= set(pages)
    # bold's orders/home.html extends the shared one, which extends bold's base.html, which extends the shared base.
    assert sum(key.startswith("orders/home.html-") for key in pages) == 1
    assert sum(key.startswith("base.html-") for key in pages) == 1
    assert {"django/forms/widgets/select.html", "django/forms/widgets/text.html"} <= set(widgets)
