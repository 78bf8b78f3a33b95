"""`make bench` (python -m stack.bench): figures beside a reference measured in the same run.

references.py  the ceiling: bare_wsgi.py under the product's gunicorn settings
load.py        wrk with order.lua (the order flow) or get.lua (plain GET); rounds combined
measurements.py  its databases and their seeding, worker memory, the machine
harness.py     the run: stack, order-placement rounds, staff table at each size, memory
report.py      targets, rows, text and markdown
cli.py         the command line
"""
