"""Production: HTTPS behind the ALB, secrets required, nothing from debug."""

import os

from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, env_bool, stop

if not SECRET_KEY or len(SECRET_KEY) < 50:
    stop("You must set SECRET_KEY (50 characters or more) in production")
# A long key can still be guessable (60 identical characters); a random one uses dozens of distinct characters.
if len(set(SECRET_KEY)) < 16 or SECRET_KEY.startswith("django-insecure-"):
    stop(
        f"SECRET_KEY is not random enough ({len(set(SECRET_KEY))} distinct characters); generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

DEBUG = False
# The ALB terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes come over plain HTTP from the kubelet and the ALB's health checker.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Public scheme (the ALB's listener) ----------------------------------------------------
# PUBLIC_SCHEME=http when the ALB has no domain and so no 443 listener (it serves its own DNS
# name): a redirect to HTTPS would lead nowhere and secure-only cookies would never come back.
PUBLIC_SCHEME = os.environ.get("PUBLIC_SCHEME", "https")
if PUBLIC_SCHEME not in ("https", "http"):
    stop(f"PUBLIC_SCHEME={PUBLIC_SCHEME!r} is not one of https, http")
if PUBLIC_SCHEME == "http":
    SECURE_SSL_REDIRECT = False
    SECURE_HSTS_SECONDS = 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_HSTS_PRELOAD = False
    SESSION_COOKIE_SECURE = False
    CSRF_COOKIE_SECURE = False
