"""Per-client rate limit of POST /orders, counted in Django's default cache.

With the shared Redis cache every process counts together; with the in-process cache (make up's
default) each process counts alone, which still stops a single client hammering one worker.
Fixed windows: one counter per client per window, expiring with it.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from .problems import Problem


def client_address(request) -> str:
    """The address the load balancer saw: API_PROXY_HOPS entries from the right of X-Forwarded-For.

    Entries further left are written by the client and could be anything; the rightmost ones are
    appended by our own proxies (HAProxy locally, the ALB in production).
    """
    hops = settings.API_PROXY_HOPS
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def check(request, scope: str) -> None:
    """Count this request; raise a 429 problem when the client is over the limit."""
    limit, window = settings.API_ORDER_RATE_LIMIT, settings.API_ORDER_RATE_WINDOW
    if limit <= 0:
        return
    now = time.time()
    slot = int(now // window)
    client = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    key = f"api-rate:{scope}:{client}:{slot}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        retry_after = max(1, int((slot + 1) * window - now + 0.999))
        raise Problem(
            429,
            "rate-limited",
            "Too many orders",
            f"At most {limit} order requests per {window} seconds from one client. Retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
