"""gunicorn settings for every variant, in the image and in the local stack. Tuned by environment."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
# Sync workers with a few threads each: the app spends its time waiting on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Load Django once in the master: a bad VARIANT/THEME/SECRET_KEY stops the process before it binds.
preload_app = True
# SIGTERM: stop accepting, finish in-flight requests within this many seconds, then exit.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))  # longer than the ALB's idle timeout (60 s)
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# /tmp is the one writable place in the container (an emptyDir).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/tmp")
# The app writes JSON request lines itself; gunicorn's own access log would repeat them.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = f"pizza-{os.environ.get('VARIANT', 'app')}"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
