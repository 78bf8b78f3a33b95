"""`make chaos` (python -m stack.chaos): faults under load, and the proof that no order is lost.

load.py        the load generator: orders (API and form) and page views, what the client saw
accounting.py  a scenario's result and the exactly-once accounting against the database
faults/        the levers: process signals, HAProxy's runtime socket, a PostgreSQL outage
scenarios/     one module per scenario, found by number (adding one = adding a file)
harness.py     its own PostgreSQL and stack, the load around each fault
report.py      the table and reports/chaos.json
cli.py         the command line and its exit status
"""

from .cli import exit_status, main
from .scenarios import SCENARIOS

__all__ = ["SCENARIOS", "exit_status", "main"]
