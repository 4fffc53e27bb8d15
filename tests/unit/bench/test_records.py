"""The records bench writes shard files whole; they must be byte for byte what `KeyFiles.write_filter` writes
and what `KeyFiles.candidates` reads."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from bench import records

from provgraph.domain import membership as m
from provgraph.store.membership import SLOTS, KeyFiles, slot_key


def test_the_last_slot_holds_a_set_of_its_own_and_the_others_are_tiled() -> None:
    sets = records.tiling(10, 3)
    assert sets.tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2, 3]
    with pytest.raises(ValueError):
        records.tiling(3, 3)


def test_whole_shards_are_what_write_filter_writes_and_candidates_finds_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    shape = m.shape_for(500)
    words = [rng.integers(0, 2**64, size=(500, 2), dtype=np.uint64) for _ in range(3)]
    filters = np.stack([m.build_filter(w, shape) for w in words])
    tiled = records.tiling(SLOTS + 5, 2)  # two shards, the second partly used; set 2 in the last slot only

    ours = KeyFiles(tmp_path / "ours")
    ours.filters.mkdir(parents=True)
    for shard in range(math.ceil(len(tiled) / SLOTS)):
        chosen = tiled[shard * SLOTS : (shard + 1) * SLOTS]
        with (ours.filters / records.shard_name(shape, shard)).open("wb") as handle:
            for first in range(0, shape.blocks, 7):  # chunked, as the bench writes them
                handle.write(records.interleave(filters, chosen, first, min(shape.blocks, first + 7)).data)

    theirs = KeyFiles(tmp_path / "theirs")
    for number, chosen in enumerate(tiled):
        theirs.write_filter(shape, number, filters[chosen])
    for shard in range(2):
        name = records.shard_name(shape, shard)
        assert (ours.filters / name).read_bytes() == (theirs.filters / name).read_bytes()

    for s in range(3):
        found = set(ours.candidates(words[s][:1]))
        assert {slot_key(shape, int(n)) for n in np.flatnonzero(tiled == s)} <= found


def test_an_empty_slot_is_zeros() -> None:
    filters = np.full((1, 4, m.BLOCK_BYTES), 255, dtype=np.uint8)
    chunk = records.interleave(filters, np.array([0, -1, 0]), 1, 3)
    assert chunk.shape == (2, SLOTS, m.BLOCK_BYTES)
    assert chunk[:, 0].all() and chunk[:, 2].all()
    assert not chunk[:, 1].any() and not chunk[:, 3:].any()


def test_the_disk_estimate_counts_whole_shards_and_the_registrations_touched_pages() -> None:
    shape = m.shape_for(1000)
    assert records.disk_needed(SLOTS + 1, 1000, 0, 1e-4) == 2 * SLOTS * shape.bytes
    assert records.disk_needed(1, 1000, 1000, 1e-4) == SLOTS * shape.bytes + 64 * shape.bytes


def test_hex_of_is_what_a_client_sends() -> None:
    words = m.as_words(bytes.fromhex(m.key_hash(b"s", "k")))
    assert records.hex_of(words) == [m.key_hash(b"s", "k")]
