# syntax=docker/dockerfile:1
# The pizza shop image: one image serves every variant; THEME and VARIANT are chosen at run time.
# Build:  docker build --build-arg VERSION=<sha> --build-arg REVISION=<sha> -t pizza:<sha> .
# Run:    read-only root file system, /tmp writable (an emptyDir in the chart), UID/GID 10001.

# ---- build: a virtual environment from the hashed lock, the app, static files per theme ----
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# Wheels only, every file checked against the lock's hashes: no compiler, no surprise downloads.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --require-hashes --only-binary=:all: -r /tmp/requirements.txt

WORKDIR /app
COPY app/ /app/
# The one definition of each environment's variants, read by the app through DEPLOY_ENV.
COPY environments/dev/variants.yaml /app/environments/dev/variants.yaml
COPY environments/qa/variants.yaml /app/environments/qa/variants.yaml
COPY environments/prod/variants.yaml /app/environments/prod/variants.yaml

# The theme is picked at run time, so collect static files once per theme into
# /app/staticfiles/<theme>. The settings below exist only for this step (production settings
# want a 50-character SECRET_KEY; this one is a placeholder, never used at run time).
# Then precompile bytecode, because nothing may be written beside the code at run time.
ENV VARIANTS_ROOT=/app
RUN for t in classic bold minimal; do \
        THEME=$t DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=collectstatic-only-placeholder-not-a-secret-never-used-at-runtime \
        ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/none.db \
        python manage.py collectstatic --noinput || exit 1; \
    done \
    && python -m compileall -q /app \
    && rm -f /tmp/none.db

# ---- runtime: the same base, the venv and the app, nothing else ----
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS runtime

ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="pizza-abc" \
      org.opencontainers.image.description="One Django pizza shop served in three designs (A, B, C) on one database." \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="NOASSERTION" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.13-slim-bookworm"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    VARIANTS_ROOT=/app \
    APP_VERSION=${VERSION} \
    PORT=8000

# A fixed UID/GID so the chart's securityContext (runAsUser 10001) matches the file owner.
RUN groupadd --system --gid 10001 pizza \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin pizza

# Code and venv stay owned by root and read-only for the app user.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app

USER 10001:10001
EXPOSE 8000

# Liveness only (no database): /readyz is for the load balancer and Kubernetes readiness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=3)"]

# gunicorn is PID 1 (exec form), so SIGTERM from Kubernetes reaches it and it drains workers.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
