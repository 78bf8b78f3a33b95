"""The OpenAPI document: served, committed, in sync, and its docs page needs no CDN."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from api.openapi import SCHEMA_FILE, current

pytestmark = pytest.mark.django_db


def test_committed_schema_matches_the_code():
    assert SCHEMA_FILE.read_text() == current(), "docs/api/openapi.json is stale: run `make openapi` and commit it"


def test_served_schema_is_the_committed_one(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(SCHEMA_FILE.read_text())


def test_every_error_response_is_a_problem_document():
    schema = json.loads(SCHEMA_FILE.read_text())
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, method, code)


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if re.match(r"(https?:)?//", a)], assets
    for asset in assets:  # each one a file collectstatic ships (WhiteNoise serves it)
        if asset.startswith(settings.STATIC_URL):
            assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset
        else:
            assert client.get(asset).status_code == 200, asset
