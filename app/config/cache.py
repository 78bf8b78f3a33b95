"""Django's Redis cache, made optional: when Redis is down every call behaves like a miss.

The shared cache (ElastiCache in production) holds switches, cached_db sessions and counters; it is
an optimisation, never a dependency. A failed call is logged once per pause, and Redis is left alone
for PAUSE_SECONDS so no request waits on its timeouts again and again; then it is tried afresh.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

PAUSE_SECONDS = 5.0

log = logging.getLogger(__name__)


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._paused_until = 0.0

    def _try(self, call, fallback):
        if time.monotonic() < self._paused_until:
            return fallback
        try:
            return call()
        except RedisError as exc:
            self._paused_until = time.monotonic() + PAUSE_SECONDS
            log.warning("cache unavailable for %.0fs, serving from the database: %s", PAUSE_SECONDS, exc)
            return fallback

    def get(self, key, default=None, version=None):
        return self._try(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def get_many(self, keys, version=None):
        return self._try(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._try(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def add(self, *args, **kwargs):
        return self._try(lambda: super(ResilientRedisCache, self).add(*args, **kwargs), False)

    def set(self, *args, **kwargs):
        return self._try(lambda: super(ResilientRedisCache, self).set(*args, **kwargs), None)

    def set_many(self, *args, **kwargs):
        return self._try(lambda: super(ResilientRedisCache, self).set_many(*args, **kwargs), [])

    def touch(self, *args, **kwargs):
        return self._try(lambda: super(ResilientRedisCache, self).touch(*args, **kwargs), False)

    def delete(self, key, version=None):
        return self._try(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def delete_many(self, keys, version=None):
        return self._try(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def incr(self, key, delta=1, version=None):
        # Counters (login throttling, API rate limits) fail open: with no cache, each count starts afresh.
        return self._try(lambda: super(ResilientRedisCache, self).incr(key, delta, version), delta)

    def clear(self):
        return self._try(lambda: super(ResilientRedisCache, self).clear(), False)
