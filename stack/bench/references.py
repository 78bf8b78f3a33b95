"""The ceiling every order-flow figure is compared with: the smallest WSGI app (bare_wsgi.py) under
the very gunicorn settings of the product, measured in the same run on the same machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from .. import APP_DIR, REPO_ROOT
from ..http import wait_until_ready


class BenchError(RuntimeError):
    pass


class BareApp:
    """stack/bench/bare_wsgi.py under app/gunicorn.conf.py, the same workers and threads as the product."""

    def __init__(self, port: int, workers: int, threads: int, state_dir: Path):
        self.port, self.workers, self.threads, self.state_dir = port, workers, threads, state_dir
        self.popen: subprocess.Popen | None = None

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VARIANT", "THEME", "DJANGO_"))}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            WEB_CONCURRENCY=str(self.workers),
            GUNICORN_THREADS=str(self.threads),
            GUNICORN_WORKER_TMP_DIR=str(self.state_dir),
            PYTHONPATH=str(REPO_ROOT),
            PYTHONUNBUFFERED="1",
        )
        log = self.state_dir / "logs" / "bare.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            popen = self.popen = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(APP_DIR / "gunicorn.conf.py"), "stack.bench.bare_wsgi:application"],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_until_ready(self.url, 20, gone=lambda: popen.poll() is not None, interval=0.1):
            raise BenchError(f"the bare WSGI app did not start; see {log}")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __exit__(self, *exc):
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
