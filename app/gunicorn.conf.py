"""gunicorn settings for every variant, in the image and in the local stack. Tuned by environment."""

import os
import shutil

bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"]
# METRICS_PORT: a second listener for the scraper only; the app answers /metrics there and nowhere else.
if int(os.environ.get("METRICS_PORT", "0")):
    bind.append(f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ['METRICS_PORT']}")
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


# Metrics from every worker: prometheus-client's multiprocess mode keeps each worker's samples in
# files here, and /metrics merges them. Set before the app loads (preload_app) and emptied, so a
# restarted server never adds the previous run's counters.
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(worker_tmp_dir, f"prometheus-{os.environ.get('VARIANT', 'app')}-{os.environ.get('PORT', '8000')}"),
)
shutil.rmtree(PROMETHEUS_MULTIPROC_DIR, ignore_errors=True)
os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)


def child_exit(server, worker):
    """A dead worker's live gauges (open connections, build info) leave the merged view."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
