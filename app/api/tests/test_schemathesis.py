"""Schemathesis (a tool nobody here wrote) fuzzes every operation of the live API from its schema.

Run alone: pytest app/api/tests/test_schemathesis.py [--liveserver 127.0.0.1:PORT]
SCHEMATHESIS_EXAMPLES (default 25 per operation and phase) and SCHEMATHESIS_SEED (default fixed) tune it.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "25")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261202")
# positive_data_acceptance is left out on purpose: a body valid for the schema can still break a
# business rule the schema cannot express (an unknown pizza id, a phone without digits): 422.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "use_after_free",
    ]
)


def test_schemathesis_finds_nothing(live_server, pizza, settings, tmp_path):
    from orders.models import Order, Pizza

    settings.API_ORDER_RATE_LIMIT = 0  # one fuzzer is one client; the limit has its own tests
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS=str(Path(__file__).with_name("schemathesis_hooks.py")),
        PIZZA_IDS=",".join(str(pk) for pk in Pizza.objects.filter(active=True).values_list("pk", flat=True)),
    )
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    result = subprocess.run(
        [
            cli,
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--request-timeout",
            "20",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    # The hooks let valid orders through: the fuzzer reached the placing path, not only the refusals.
    assert Order.objects.filter(channel="api").exists(), output[-3000:]
