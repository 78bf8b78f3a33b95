"""Django's PostgreSQL backend with a health check that costs no round trip when nothing is wrong (base.py)."""
