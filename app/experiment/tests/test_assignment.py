"""Deterministic assignment: XXH32 as specified (HAProxy's xxh32 converter), buckets by weight."""

import collections

import pytest

from experiment import assignment

ABC = {"a": 34, "b": 33, "c": 33}


@pytest.mark.parametrize(
    "data,seed,expected",
    [
        (b"", 0, 0x02CC5D05),
        (b"abc", 0, 0x32D153FF),
        (b"Nobody inspects the spammish repetition", 0, 0xE2293B2F),  # > 16 bytes: the four-lane path
    ],
)
def test_xxh32_matches_the_reference_vectors(data, seed, expected):
    assert assignment.xxh32(data, seed) == expected


def test_the_salt_reshuffles_visitors():
    ids = [f"{i:032x}" for i in range(400)]
    same = sum(assignment.assigned_variant(v, ABC, seed=1) == assignment.assigned_variant(v, ABC, seed=2) for v in ids)
    assert 80 < same < 200  # about a third by chance, not all


def test_buckets_follow_the_weights():
    ids = [f"{i:032x}" for i in range(30000)]
    counts = collections.Counter(assignment.assigned_variant(v, {"a": 50, "b": 25, "c": 25}, seed=7) for v in ids)
    assert abs(counts["a"] / 30000 - 0.5) < 0.02 and abs(counts["b"] / 30000 - 0.25) < 0.02


def test_a_weight_zero_variant_gets_nobody():
    ids = [f"{i:032x}" for i in range(2000)]
    assert all(assignment.assigned_variant(v, {"a": 50, "b": 0, "c": 50}, seed=3) != "b" for v in ids)


@pytest.mark.parametrize("variant", ["a", "b", "c"])
def test_minted_ids_hash_to_the_variant_that_minted_them(variant):
    for _ in range(50):
        visitor = assignment.mint_visitor_id(variant, ABC)
        assert len(visitor) == 32 and assignment.assigned_variant(visitor, ABC) == variant


def test_salt_outside_32_bits_is_refused(monkeypatch):
    monkeypatch.setenv("EXPERIMENT_SALT", str(2**32))
    with pytest.raises(ValueError):
        assignment.salt()
