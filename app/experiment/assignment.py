"""Deterministic assignment: a visitor's variant is a hash of their visitor id and the experiment's salt.

The load balancer computes the same hash (HAProxy's xxh32 converter seeded with the salt, see
stack/local/haproxy.py), so a returning visitor reaches the same design on every visit, for as long as the
cookie lives, not merely for a sticky-cookie day. A visitor arriving without the cookie is placed at
random by weight; the variant that serves them mints an id whose hash lands on itself, so their
next visit goes back to it.

Pure Python (no Django), so the stack's HAProxy renderer imports the same salt and buckets.
"""

from __future__ import annotations

import os
import uuid

# EXPERIMENT_SALT re-randomises every visitor when a new experiment starts (an unsigned 32-bit integer).
DEFAULT_SALT = 20
MAX_MINT_TRIES = 1000  # a variant with weight w of total T needs T/w tries on average

_MASK = 0xFFFFFFFF
_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393


def salt() -> int:
    value = int(os.environ.get("EXPERIMENT_SALT", DEFAULT_SALT))
    if not 0 <= value <= _MASK:
        raise ValueError("EXPERIMENT_SALT must be an integer from 0 to 4294967295")
    return value


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def xxh32(data: bytes, seed: int = 0) -> int:
    """XXH32 (the xxHash specification), the hash HAProxy's xxh32(<seed>) converter computes."""
    n, i = len(data), 0
    if n >= 16:
        lanes = [(seed + _P1 + _P2) & _MASK, (seed + _P2) & _MASK, seed & _MASK, (seed - _P1) & _MASK]
        while i + 16 <= n:
            for k in range(4):
                word = int.from_bytes(data[i : i + 4], "little")
                lanes[k] = (_rotl((lanes[k] + word * _P2) & _MASK, 13) * _P1) & _MASK
                i += 4
        h = (_rotl(lanes[0], 1) + _rotl(lanes[1], 7) + _rotl(lanes[2], 12) + _rotl(lanes[3], 18)) & _MASK
    else:
        h = (seed + _P5) & _MASK
    h = (h + n) & _MASK
    while i + 4 <= n:
        h = (_rotl((h + int.from_bytes(data[i : i + 4], "little") * _P3) & _MASK, 17) * _P4) & _MASK
        i += 4
    while i < n:
        h = (_rotl((h + data[i] * _P5) & _MASK, 11) * _P1) & _MASK
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _MASK
    h ^= h >> 13
    h = (h * _P3) & _MASK
    return h ^ (h >> 16)


def bucket(visitor_id: str, total_weight: int, seed: int | None = None) -> int:
    """0 <= bucket < total_weight; HAProxy: req.cook(pz_visitor),xxh32(<salt>),mod(<total>)."""
    return xxh32(visitor_id.encode("ascii"), salt() if seed is None else seed) % total_weight


def ranges(weights: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each variant's [low, high) slice of the buckets, in variants.yaml order (weight 0: an empty slice)."""
    low, out = 0, {}
    for name, weight in weights.items():
        out[name] = (low, low + weight)
        low += weight
    return out


def assigned_variant(visitor_id: str, weights: dict[str, int], seed: int | None = None) -> str:
    b = bucket(visitor_id, sum(weights.values()), seed)
    return next(name for name, (low, high) in ranges(weights).items() if low <= b < high)


def mint_visitor_id(variant: str, weights: dict[str, int], seed: int | None = None) -> str:
    """A new random visitor id whose hash assigns it to `variant` (any id if that variant gets no share)."""
    if weights.get(variant, 0) <= 0:
        return uuid.uuid4().hex
    for _ in range(MAX_MINT_TRIES):
        candidate = uuid.uuid4().hex
        if assigned_variant(candidate, weights, seed) == variant:
            return candidate
    return uuid.uuid4().hex
