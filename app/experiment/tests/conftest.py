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
