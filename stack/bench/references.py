"""The references every figure is compared with, each run by gunicorn under the product's very settings
(app/gunicorn.conf.py, the same workers and threads) and measured in the same run on the same machine:

- the ceiling: the smallest WSGI app (bare_wsgi.py), answering "ok" to anything;
- the floor: the simplest Django order view (floor/: a two-field ModelForm saved, then a redirect;
  CSRF, persistent connections, the same PostgreSQL), what a plain Django app sets on this machine.
"""

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


class Reference:
    """A WSGI app under app/gunicorn.conf.py with the same workers and threads as the product."""

    name = "reference"
    target = ""
    ready_path = "/"

    def __init__(self, port: int, workers: int, threads: int, state_dir: Path, env: dict | None = None):
        self.port, self.workers, self.threads, self.state_dir = port, workers, threads, state_dir
        self.env = env or {}
        self.popen: subprocess.Popen | None = None

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VARIANT", "THEME", "DJANGO_", "METRICS_PORT"))}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            WEB_CONCURRENCY=str(self.workers),
            GUNICORN_THREADS=str(self.threads),
            GUNICORN_WORKER_TMP_DIR=str(self.state_dir),
            PYTHONPATH=str(REPO_ROOT),
            PYTHONUNBUFFERED="1",
            VARIANT=self.name,  # names gunicorn's process and its metrics directory only
            **self.env,
        )
        log = self.state_dir / "logs" / f"{self.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            popen = self.popen = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(APP_DIR / "gunicorn.conf.py"), self.target],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_until_ready(self.url + self.ready_path.lstrip("/"), 60, gone=lambda: popen.poll() is not None, interval=0.1):
            self.__exit__()
            raise BenchError(f"the {self.name} app did not start; see {log}")
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


class BareApp(Reference):
    """The ceiling: stack/bench/bare_wsgi.py."""

    name = "bare"
    target = "stack.bench.bare_wsgi:application"


class FloorApp(Reference):
    """The floor: stack/bench/floor/, on its own database (its one table created by migrate --run-syncdb)."""

    name = "floor"
    target = "stack.bench.floor.wsgi:application"
    ready_path = "/readyz"

    def __init__(self, port: int, workers: int, threads: int, state_dir: Path, database_url: str):
        super().__init__(port, workers, threads, state_dir, env={"DATABASE_URL": database_url})
        self.database_url = database_url

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        env.update(DATABASE_URL=self.database_url, DJANGO_SETTINGS_MODULE="stack.bench.floor.settings", PYTHONPATH=str(REPO_ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--run-syncdb", "-v", "0"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchError(f"the floor app's table could not be created:\n{done.stdout}{done.stderr}")
        return super().__enter__()

    @property
    def order_url(self) -> str:
        return self.url + "order/"
