"""Login throttling (django-axes) on /accounts/login/ and /admin/login/: where failures are counted
and which address they are counted against."""

from __future__ import annotations

from django.conf import settings

# Caches that live inside one process: a failure counted there is invisible to the other processes
# and variants, so failures go to the shared database instead.
PER_PROCESS_CACHES = ("locmem", "dummy", "filebased")


class SharedCounterHandler:
    """axes' cache handler when the default cache is shared (Redis: REDIS_URL), else its database
    handler (the one PostgreSQL every variant shares). Chosen when axes first needs it."""

    def __new__(cls):
        from axes.handlers.cache import AxesCacheHandler
        from axes.handlers.database import AxesDatabaseHandler

        backend = settings.CACHES[getattr(settings, "AXES_CACHE", "default")]["BACKEND"].lower()
        return AxesDatabaseHandler() if any(kind in backend for kind in PER_PROCESS_CACHES) else AxesCacheHandler()


def client_ip(request) -> str:
    """The client's address: the entry the trusted proxies appended to X-Forwarded-For.

    TRUSTED_PROXY_COUNT proxies (the ALB, or HAProxy locally: 1) each append the address they saw,
    so the entry that many places from the right is the one a client cannot forge; without the
    header (tests, direct hits on a pod) it is the peer address.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
