"""The floor reference of `make bench`: the simplest Django order view this machine serves.

One model with two fields, one ModelForm, saved, then a redirect; CSRF on; persistent connections to
the same PostgreSQL; run by gunicorn with the product's app/gunicorn.conf.py, workers and threads.
No validation beyond the form, no idempotency, no logging, no exposures: what a plain Django app
costs, which the product's order POST is measured against (docs/bench.md).

    DATABASE_URL=postgres://... DJANGO_SETTINGS_MODULE=stack.bench.floor.settings \\
        gunicorn -c app/gunicorn.conf.py stack.bench.floor.wsgi:application
"""
