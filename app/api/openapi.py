"""The committed OpenAPI document (docs/api/openapi.json): what client generators read.

.venv/bin/python -m api.openapi --write    (from app/; `make openapi` does this)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings

SCHEMA_FILE = Path(settings.BASE_DIR).parent / "docs" / "api" / "openapi.json"


def current() -> str:
    """The document the code serves at /api/v1/openapi.json, as the committed file spells it."""
    from ninja.responses import NinjaJSONEncoder

    from .views import api

    return json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    import django

    django.setup()
    if sys.argv[1:] == ["--write"]:
        SCHEMA_FILE.write_text(current())
        print(f"wrote {SCHEMA_FILE}")
    else:
        sys.stdout.write(current())
