"""The Dockerfile, read statically (there is no Docker engine here): linted, scanned, and every path,
module and command it relies on exists in the repository and in the build context."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.variants import ENVIRONMENTS, THEMES
from dockerfile_support import (
    DOCKERFILE,
    REPO_ROOT,
    env_values,
    exec_form,
    final_stage,
    in_build_context,
    instructions,
)

VENV_BIN = Path(sys.executable).parent
ITEMS = instructions()
FINAL = final_stage(ITEMS)


def of(keyword: str, items=ITEMS) -> list[str]:
    return [i.args for i in items if i.keyword == keyword]


def test_hadolint_reports_nothing():
    result = subprocess.run([VENV_BIN / "hadolint", "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_checkov_dockerfile_checks_pass(run_checkov):
    result = run_checkov(REPO_ROOT / ".github" / ".checkov.yaml", "--framework", "dockerfile", "-f", str(DOCKERFILE), "-o", "json")
    report = json.loads(result.stdout)
    assert report["check_type"] == "dockerfile" and report["summary"]["passed"] > 0
    failed = report["results"]["failed_checks"]
    assert failed == [], [(c["check_id"], c["check_name"]) for c in failed]


def test_multi_stage_on_one_pinned_slim_python_3_11_base():
    froms = of("FROM")
    assert len(froms) >= 2
    for line in froms:
        image = line.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", image), image
    assert len({line.split()[0] for line in froms}) == 1, "build and runtime stages must share one base"


def test_dependencies_come_from_the_hashed_lock_as_wheels():
    install = [r for r in of("RUN") if "pip install" in r]
    assert len(install) == 1
    assert "--require-hashes" in install[0] and "-r /tmp/requirements.txt" in install[0]
    assert "--only-binary=:all:" in install[0] and "--no-cache-dir" in install[0]
    assert "COPY requirements.txt /tmp/requirements.txt" in [f"COPY {c}" for c in of("COPY")]
    assert "--hash=sha256:" in (REPO_ROOT / "requirements.txt").read_text()


def test_static_files_are_collected_once_per_theme_at_build_time():
    loop = [r for r in of("RUN") if "collectstatic" in r]
    assert len(loop) == 1 and loop[0].startswith("for t in ")
    themes = loop[0].split(";")[0].removeprefix("for t in ").split()
    assert sorted(themes) == sorted(THEMES)
    for setting in ("THEME=$t", "DJANGO_SETTINGS_MODULE=config.settings.production", "DATABASE_URL=sqlite:////tmp/"):
        assert setting in loop[0]
    key = re.search(r"SECRET_KEY=(\S+)", loop[0]).group(1)
    assert len(key) >= 50, "production settings refuse a SECRET_KEY shorter than 50 characters"
    assert "collectstatic --noinput" in loop[0]


def test_the_app_and_every_variants_file_are_copied_to_their_contract_paths():
    copies = of("COPY")
    assert "app/ /app/" in copies
    for env in ENVIRONMENTS:
        assert f"environments/{env}/variants.yaml /app/environments/{env}/variants.yaml" in copies
    assert "--from=build /app /app" in copies and "--from=build /opt/venv /opt/venv" in copies


@pytest.mark.parametrize(
    "path",
    [
        "requirements.txt",
        "app/manage.py",
        "app/gunicorn.conf.py",
        "app/config/wsgi.py",
        "app/config/settings/production.py",
        "app/ops/management/commands/migrate_safely.py",
        *[f"environments/{env}/variants.yaml" for env in ENVIRONMENTS],
        *[f"app/themes/{theme}" for theme in THEMES],
    ],
)
def test_what_the_image_needs_exists_and_is_sent_to_the_builder(path):
    assert (REPO_ROOT / path).exists(), path
    assert in_build_context(path), f"{path} is excluded by .dockerignore"


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        ".venv-checkov/bin/checkov",
        "tests/conftest.py",
        "chart/values.yaml",
        "terraform/main.tf",
        "environments/dev/terraform.tfvars",
        ".stack/db.sqlite3",
        "app/staticfiles/classic/x.css",
        "app/orders/__pycache__/models.cpython-311.pyc",
        "app/orders/tests/test_views.py",
        ".env",
    ],
)
def test_what_the_image_must_not_carry_stays_out_of_the_build_context(path):
    assert not in_build_context(path), path


def test_runs_as_uid_gid_10001_not_root():
    assert of("USER", FINAL) == ["10001:10001"]
    assert FINAL[-1].keyword == "CMD" and [i.keyword for i in FINAL].index("USER") > max(
        n for n, i in enumerate(FINAL) if i.keyword in ("RUN", "COPY")
    )
    useradd = [r for r in of("RUN", FINAL) if "useradd" in r][0]
    assert "--uid 10001" in useradd and "--gid 10001" in useradd and "--no-log-init" in useradd


def test_gunicorn_is_pid_1_in_exec_form_with_the_repos_config():
    assert exec_form(of("CMD", FINAL)[-1]) == ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
    assert of("ENTRYPOINT", FINAL) == []
    assert of("WORKDIR", FINAL) == ["/app"]
    assert of("EXPOSE", FINAL) == ["8000"]


def test_runtime_environment_matches_the_contract():
    env = env_values(FINAL)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["VARIANTS_ROOT"] == "/app" and env["PORT"] == "8000"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_healthcheck_is_an_exec_form_python_probe_of_healthz():
    (check,) = of("HEALTHCHECK", FINAL)
    command = exec_form(check.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"] and "/healthz" in command[2] and "PORT" in command[2]


def test_oci_labels():
    labels = " ".join(of("LABEL", FINAL))
    for key in ("title", "description", "source", "version", "revision"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_nothing_is_written_beside_the_code_at_run_time():
    # Bytecode is compiled at build time; at run time only /tmp (an emptyDir) is writable.
    build_runs = " ".join(of("RUN", [i for i in ITEMS if i.stage == 0]))
    assert "compileall" in build_runs
    conf = (REPO_ROOT / "app" / "gunicorn.conf.py").read_text()
    assert '"/tmp"' in conf and "worker_tmp_dir" in conf
