"""The local stack: A, B and C under gunicorn behind HAProxy, on one database (`make up`).

ports.py    the port plan: every port derived from one base
haproxy.py  the HAProxy config (weighted split, sticky cookie, health checks) and its runtime API
stack.py    the processes: prepare, start, stop, drain and retire a slot
install.py  HAProxy itself, installed at start-up where we can
up.py       `make up` (python -m stack.local)
"""

from .. import APP_DIR, REPO_ROOT, StackError
from .ports import PortPlan
from .stack import Process, Stack

__all__ = ["APP_DIR", "REPO_ROOT", "PortPlan", "Process", "Stack", "StackError"]
