from __future__ import annotations

import pytest
from django.test import Client

from experiment import middleware

from .factories import BROWSER


@pytest.fixture(autouse=True)
def forget_seen():
    """The per-process memory of written exposures must not outlive a test's rolled-back rows."""
    middleware.seen.clear()
    yield
    middleware.seen.clear()


@pytest.fixture
def browser():
    """A client that looks like a real browser (an empty User-Agent counts as a script)."""
    return Client(HTTP_USER_AGENT=BROWSER)


@pytest.fixture
def staff_user(django_user_model):
    from ops.roles import add_roles

    user = django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True)
    add_roles(user, "marketing")
    return user


@pytest.fixture
def staff_client(staff_user):
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.force_login(staff_user)
    return client

