"""Fixtures shared by the app's tests (all of them run on a real PostgreSQL)."""

import os
import uuid

import pytest
from django.conf import settings
from django.test import Client, override_settings

from config.settings.base import BASE_DIR, THEMES_DIR


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Create and migrate the test database directly (as the migration job does), then send every
    test's queries through a real PgBouncer in transaction mode (as the web pods go through the pool)."""
    from django.db import connections

    from stack.services.pgbouncer import shared_for_tests

    pool = shared_for_tests(os.environ["TEST_DATABASE_URL"])
    settings_dict = connections["default"].settings_dict
    direct = {"HOST": settings_dict["HOST"], "PORT": settings_dict["PORT"]}
    with django_db_blocker.unblock():
        connections.close_all()
    settings_dict.update(HOST="127.0.0.1", PORT=pool.port)
    yield pool
    with django_db_blocker.unblock():
        connections.close_all()
    settings_dict.update(direct)
    pool.admin(f"KILL {settings_dict['NAME']}")  # its server connections would block DROP DATABASE


@pytest.fixture(scope="module", autouse=True)
def direct_database(request):
    """Modules marked direct_db hold session state (advisory locks, DDL timeouts) as the migration job
    does, so they connect to PostgreSQL directly, never through the transaction pooler."""
    if request.node.get_closest_marker("direct_db") is None:
        yield
        return
    from django.db import connections

    pool = request.getfixturevalue("django_db_setup")
    settings_dict = connections["default"].settings_dict
    server = pool.server
    connections["default"].close()
    settings_dict.update(HOST=server.hostname, PORT=server.port or 5432)
    yield
    connections["default"].close()
    settings_dict.update(HOST="127.0.0.1", PORT=pool.port)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty per-process caches (switches, the blank order form, the pizzas chosen lately)."""
    from django.core.cache import caches

    from orders.menu import forget_chosen

    for cache in caches.all():
        cache.clear()
    forget_chosen()


@pytest.fixture
def staff_user(django_user_model):
    """Kitchen and marketing at once: every staff page (the admin needs a superuser)."""
    from ops.roles import add_roles

    user = django_user_model.objects.create_user("staffer", password="pw-staff-123", is_staff=True)
    add_roles(user, "kitchen", "marketing")
    return user


@pytest.fixture
def staff_client(staff_user):
    # A browser's User-Agent: the experiment would take an empty one for a script and ignore it anyway.
    from experiment.tests.factories import BROWSER

    client = Client(HTTP_USER_AGENT=BROWSER)
    client.force_login(staff_user)
    return client


@pytest.fixture
def customer_user(django_user_model):
    return django_user_model.objects.create_user("customer", password="pw-customer-123")


@pytest.fixture
def pizza(db):
    from orders.models import Pizza
    from orders.tests.factories import ensure_seed

    ensure_seed()
    return Pizza.objects.get(name="Pepperoni")


@pytest.fixture
def order_data(pizza):
    """A valid order form submission with a fresh one-time token."""
    return {
        "form_token": str(uuid.uuid4()),
        "pizza": str(pizza.pk),
        "size": "large",
        "quantity": "2",
        "customer_name": "Ada Lovelace",
        "phone": "+45 12 34 56 78",
        "address": "1 Analytical Engine Way\nLondon",
        "comments": "Ring twice",
    }


@pytest.fixture
def use_theme():
    """use_theme("bold", VARIANT="b"): settings as a process started with THEME=bold would have them."""

    def override(theme: str, **more):
        templates = [dict(settings.TEMPLATES[0], DIRS=[THEMES_DIR / theme / "templates", BASE_DIR / "templates"])]
        static = [THEMES_DIR / theme / "static", BASE_DIR / "static"]
        return override_settings(THEME=theme, TEMPLATES=templates, STATICFILES_DIRS=static, **more)

    return override
