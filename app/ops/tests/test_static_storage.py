"""config.storage: WhiteNoise's manifest storage, each hashed URL worked out once and then reused."""

import json

import pytest

from config.storage import StaticFilesStorage


@pytest.fixture
def storage(tmp_path):
    manifest = {"paths": {"css/base.css": "css/base.0123456789ab.css"}, "version": "1.1", "hash": "0123456789ab"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticFilesStorage(location=tmp_path, base_url="/static/")


def test_a_name_gets_its_hashed_url_every_time(storage):
    assert storage.url("css/base.css") == "/static/css/base.0123456789ab.css"
    assert storage.url("css/base.css") == "/static/css/base.0123456789ab.css"
    assert storage._urls == {"css/base.css": "/static/css/base.0123456789ab.css"}


def test_a_name_missing_from_the_manifest_is_refused_every_time(storage):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/nowhere.css")


def test_debug_serves_the_plain_name_and_remembers_nothing(storage, settings):
    settings.DEBUG = True
    assert storage.url("css/base.css") == "/static/css/base.css"
    assert not getattr(storage, "_urls", {})
