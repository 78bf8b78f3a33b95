"""The image's build and start steps, run here without Docker: the app is laid out as the image
lays it out (only what .dockerignore lets through), static files are collected with the Dockerfile's
own command, and gunicorn starts with the image's CMD from the repo's virtual environment, which was
installed from the same hashed lock. Nothing may be written beside the code once it runs."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config.variants import ENVIRONMENTS, THEMES, load_variants
from dockerfile_support import REPO_ROOT, exec_form, final_stage, in_build_context, instructions

VENV_BIN = Path(sys.executable).parent
ITEMS = instructions()
SECRET = "image-test-only-placeholder-not-a-secret-and-longer-than-fifty-characters"

pytestmark = pytest.mark.slow


def locked_versions() -> dict[str, str]:
    text = (REPO_ROOT / "requirements.txt").read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M)}


def collectstatic_env(theme: str) -> dict[str, str]:
    """The VAR=value assignments of the Dockerfile's collectstatic loop, for one theme."""
    (loop,) = [i.args for i in ITEMS if i.keyword == "RUN" and "collectstatic" in i.args]
    body = loop.split(" do ", 1)[1].split("python manage.py collectstatic")[0]
    return {k: v.replace("$t", theme) for k, v in re.findall(r"(\w+)=(\S+)", body)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def base_env(root: Path, scratch: Path) -> dict[str, str]:
    """What the runtime stage's ENV gives every process, with scratch standing in for /tmp."""
    return {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "VARIANTS_ROOT": str(root),
        "TMPDIR": str(scratch),
        "HOME": str(scratch),
    }


@pytest.fixture(scope="module")
def image_root(tmp_path_factory) -> Path:
    """/app as the build stage leaves it: app/ and the variants files, static files collected."""
    root = tmp_path_factory.mktemp("image") / "app"
    for path in sorted((REPO_ROOT / "app").rglob("*")):
        relative = path.relative_to(REPO_ROOT)
        if path.is_file() and in_build_context(relative.as_posix()):
            target = root / path.relative_to(REPO_ROOT / "app")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for env in ENVIRONMENTS:
        target = root / "environments" / env / "variants.yaml"
        target.parent.mkdir(parents=True)
        shutil.copy2(REPO_ROOT / "environments" / env / "variants.yaml", target)
    scratch = tmp_path_factory.mktemp("build-tmp")
    for theme in THEMES:
        env = {**base_env(root, scratch), **collectstatic_env(theme)}
        # The Dockerfile's sqlite:////tmp/none.db becomes a file in the scratch folder here.
        env["DATABASE_URL"] = f"sqlite:///{scratch}/none.db"
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_the_venv_runs_exactly_the_locked_versions():
    locked = locked_versions()
    assert {"django", "gunicorn", "whitenoise", "psycopg2-binary"} <= set(locked)
    for name, version in locked.items():
        assert importlib.metadata.version(name) == version, name


def test_static_files_are_collected_for_every_theme(image_root):
    for theme in THEMES:
        collected = image_root / "staticfiles" / theme
        assert (collected / "staticfiles.json").is_file(), theme
        own = [
            p.relative_to(REPO_ROOT / "app" / "themes" / theme / "static")
            for p in (REPO_ROOT / "app" / "themes" / theme / "static").rglob("*")
            if p.is_file()
        ]
        assert own, f"theme {theme} has no static files"
        for relative in own:
            assert (collected / relative).is_file(), f"{theme}: {relative} not collected"


def test_the_migration_command_the_chart_runs_exists(image_root, tmp_path):
    env = {**base_env(image_root, tmp_path), "SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path}/none.db"}
    done = subprocess.run(
        [sys.executable, "manage.py", "help", "migrate_safely"], cwd=image_root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "--check-contract" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("variant", ["a", "c"])
def test_gunicorn_starts_as_the_image_cmd_answers_and_stops_cleanly_writing_nothing(image_root, tmp_path, variant):
    (cmd,) = [exec_form(i.args) for i in final_stage(ITEMS) if i.keyword == "CMD"]
    (healthcheck,) = [i.args for i in final_stage(ITEMS) if i.keyword == "HEALTHCHECK"]
    probe = exec_form(healthcheck.split(" CMD ", 1)[1])
    port = free_port()
    env = {
        **base_env(image_root, tmp_path),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "pizza.test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/runtime.db",
        "DEPLOY_ENV": "dev",
        "VARIANT": variant,
        "WEB_CONCURRENCY": "1",
        "GUNICORN_WORKER_TMP_DIR": str(tmp_path),
    }
    before = tree(image_root)
    server = subprocess.Popen(cmd, cwd=image_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, f"gunicorn exited: {server.stdout.read()}"
                assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 30 s"
                time.sleep(0.2)
        # The image's HEALTHCHECK command, as Docker would run it inside the container.
        done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        # The theme's static files, collected at build time, are served for this variant's theme.
        theme = load_variants("dev").variants[variant].theme
        manifest = (image_root / "staticfiles" / theme / "staticfiles.json").read_text()
        hashed = re.search(r'"css/[^"]+":\s*"(css/[^"]+)"', manifest).group(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/static/{hashed}", headers={"Host": "pizza.test", "X-Forwarded-Proto": "https"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    output = server.stdout.read()
    assert code == 0, output
    after = tree(image_root)
    assert after == before, f"written beside the code at run time: {sorted(set(after) ^ set(before))[:10]}"
