"""The local A/B/C stack and the tools around it.

    stack/local/     the local stack: port plan, HAProxy config, processes, `make up`
    stack/postgres.py  a real PostgreSQL for tests, bench and chaos (`python -m stack.postgres CMD`)
    stack/deploy/    release list, rolling restart, the deploy's smoke check
    stack/chaos/     `make chaos`: faults under load and exactly-once accounting
    stack/bench/     `make bench`: throughput, staff table and memory beside a ceiling
    stack/drill/     `make restore-drill`: point-in-time restore under live orders, RPO and RTO
    stack/http.py    HTTP helpers shared by all of them (wait until ready, forms, staff login)
    stack/stats.py   the one percentile function

app/ is put on the import path so the stack reads variants.yaml with the app's own loader.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "app"

if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))


class StackError(RuntimeError):
    """Something the operator must fix; the message says what."""
