"""The membership math: key hashes, filter sizing, and a measured false-positive rate that matches the
computed one."""

from __future__ import annotations

import numpy as np
import pytest

from provgraph.domain import membership as m
from provgraph.domain.errors import InvalidArgument


def random_hashes(n: int, seed: int) -> m.Hashes:
    return np.random.default_rng(seed).integers(0, 2**64, size=(n, 2), dtype=np.uint64)


def test_a_key_hash_is_a_keyed_truncated_hmac() -> None:
    one = m.key_hash(b"secret", "alice@example.com")
    assert len(one) == 32 and one == m.key_hash(b"secret", b"alice@example.com")
    assert one != m.key_hash(b"another secret", "alice@example.com")
    assert m.parse_key_hash(one) == bytes.fromhex(one)
    for bad in ("", "xyz", one.upper(), one + "00", "alice@example.com"):
        with pytest.raises(InvalidArgument):
            m.parse_key_hash(bad)


def test_sent_hashes_are_sorted_and_deduplicated_and_their_digest_ignores_order() -> None:
    words = random_hashes(1000, 1)
    body = m.hashes_to_bytes(words)
    again = m.hashes_to_bytes(np.concatenate([words[::-1], words[:10]]))
    assert m.digest_of(m.hashes_from_bytes(body)) == m.digest_of(m.hashes_from_bytes(again))
    assert len(m.hashes_from_bytes(again)) == 1000
    with pytest.raises(InvalidArgument, match="multiple"):
        m.hashes_from_bytes(body[:-1])
    with pytest.raises(InvalidArgument, match="no key hashes"):
        m.hashes_from_bytes(b"")


@pytest.mark.parametrize(("keys", "rate"), [(20_000, 1e-2), (200_000, 1e-3)])
def test_the_measured_false_positive_rate_is_the_computed_one_and_under_the_target(
    keys: int, rate: float
) -> None:
    shape = m.shape_for(keys, rate)
    expected = shape.false_positive_rate(keys)
    assert 0.5 * rate < expected <= rate  # the size grid overshoots by at most ~9%
    members = m.unique_sorted(random_hashes(keys, 2))
    bits = m.build_filter(members, shape)
    block, positions = m.probes(members[:2000], shape)
    assert all(m.rows_hold(bits[int(block[i])][None, :], positions[i])[0] for i in range(2000))
    strangers = random_hashes(400_000, 3)
    block, positions = m.probes(strangers, shape)
    rows = bits[block.astype(np.intp)]
    byte = (positions >> np.uint64(3)).astype(np.intp)
    bit = (positions & np.uint64(7)).astype(np.uint8)
    measured = float(np.all((np.take_along_axis(rows, byte, axis=1) >> bit) & 1, axis=1).mean())
    assert measured == pytest.approx(expected, rel=0.25)


def test_a_filter_at_the_default_rate_costs_about_three_bytes_per_key() -> None:
    for keys in (1_000_000, 10_000_000):
        shape = m.shape_for(keys)
        assert 2.3 < shape.bytes / keys < 3.1
        assert shape.false_positive_rate(keys) <= m.DEFAULT_FALSE_POSITIVE_RATE
    with pytest.raises(InvalidArgument):
        m.shape_for(10, 0.0)


def test_an_exact_set_answers_only_for_its_own_hashes() -> None:
    words = m.unique_sorted(random_hashes(5000, 4))
    assert m.holds_exactly(words, words[1234:1235])
    assert not m.holds_exactly(words, random_hashes(1, 5))
