"""Record keys: which records a dataset version or slice holds, known only by keyed hashes.

A client turns each record key (a user id, a document URL, a row's primary key) into
`HMAC-SHA256(secret, key)` truncated to 16 bytes, with a secret that never leaves the client. The service
stores those hashes for small registrations (an exact set: membership is DEFINITELY or not at all) and a
Bloom filter for every registration (membership is POSSIBLY, with the filter's false-positive rate, or
definitely not). Without the secret the service cannot turn a hash back into a key, nor test a key of
its own choosing: it can only answer for hashes a secret holder sends it.

The filters are *blocked* Bloom filters (one 512-bit block per key, chosen by the hash; Putze, Sanders and
Singler 2007): a lookup touches one 64-byte block per filter. Filters with the same number of blocks and
hashes put a key in the same block, so the store lays many of them side by side (store/membership.py) and
answers a lookup across thousands of filters with one contiguous read per shard.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import numpy as np
import numpy.typing as npt

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.lineage import VersionAt

KEY_HASH_BYTES = 16  # a truncated HMAC-SHA256: 128 bits, so distinct keys never collide in practice
BLOCK_BYTES = 64
BLOCK_BITS = BLOCK_BYTES * 8
DEFAULT_FALSE_POSITIVE_RATE = 1e-4
MIN_FALSE_POSITIVE_RATE = 1e-9
EXACT_LIMIT = 100_000  # registrations this small also keep their exact set of hashes (DEFINITELY answers)
_HEX = re.compile(r"[0-9a-f]{32}")

Hashes = npt.NDArray[np.uint64]  # shape (n, 2): each hash as two big-endian 64-bit words


class Certainty(Enum):
    DEFINITELY = "DEFINITELY"  # an exact set holds the hash (or a registered row range holds the row)
    POSSIBLY = "POSSIBLY"  # a filter says so (it may be a false positive), or a parent holds it


class Basis(Enum):
    EXACT_SET = "EXACT_SET"  # the registration's exact set of key hashes
    FILTER = "FILTER"  # the registration's Bloom filter
    ROW_RANGE = "ROW_RANGE"  # a registered range of the table's row ids (Iceberg `_row_id`, Delta `row_id`)
    INHERITED = "INHERITED"  # not registered itself: derived by a key-preserving transform from a holder


def key_hash(secret: bytes, key: str | bytes) -> str:
    """The hex form of a record key's keyed hash (what the SDK sends; the secret stays with the caller)."""
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(secret, raw, hashlib.sha256).digest()[:KEY_HASH_BYTES].hex()


def parse_key_hash(text: str, field: str = "keyHash") -> bytes:
    """A key hash as sent: 32 lowercase hex characters (16 bytes)."""
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise InvalidArgument(
            f"a key hash is 32 lowercase hex characters (HMAC-SHA256 of the key, first 16 bytes); got {str(text)[:40]!r}",
            field=field,
        )
    return bytes.fromhex(text)


def hashes_from_bytes(body: bytes, field: str = "body") -> Hashes:
    """Key hashes sent as concatenated 16-byte values, sorted and without repeats."""
    if not body:
        raise InvalidArgument("no key hashes were sent", field=field)
    if len(body) % KEY_HASH_BYTES:
        raise InvalidArgument(
            f"key hashes are {KEY_HASH_BYTES} bytes each; the body's {len(body)} bytes are not a multiple of that",
            field=field,
        )
    words = np.frombuffer(body, dtype=">u8").astype(np.uint64).reshape(-1, 2)
    return unique_sorted(words)


def unique_sorted(words: Hashes) -> Hashes:
    """Hashes sorted (as 128-bit numbers) with repeats removed."""
    order = np.lexsort((words[:, 1], words[:, 0]))
    ordered = words[order]
    if len(ordered) > 1:
        keep = np.ones(len(ordered), dtype=bool)
        keep[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
        ordered = ordered[keep]
    return np.ascontiguousarray(ordered)


def hashes_to_bytes(words: Hashes) -> bytes:
    return words.astype(">u8").tobytes()


def digest_of(words: Hashes) -> str:
    """`sha256:<hex>` of the sorted hashes: what identifies a registration's key set (a repeat sends the
    same set and gets the same digest)."""
    return "sha256:" + hashlib.sha256(hashes_to_bytes(words)).hexdigest()


@dataclass(frozen=True)
class FilterShape:
    """A blocked Bloom filter's size (`blocks` of 512 bits) and number of bit probes per key (`hashes`)."""

    blocks: int
    hashes: int

    @property
    def bytes(self) -> int:
        return self.blocks * BLOCK_BYTES

    def false_positive_rate(self, keys: int) -> float:
        """The chance that a hash not in the filter is reported present, for `keys` keys: the keys per block
        are Poisson distributed, and a block with j keys has each bit set with probability
        1 - (1 - k/512)^j."""
        if keys <= 0:
            return 0.0
        load = keys / self.blocks
        k = self.hashes
        top = int(load + 12 * math.sqrt(load) + 30)
        total = 0.0
        log_p = -load  # log of Poisson(0)
        for j in range(top + 1):
            if j:
                log_p += math.log(load) - math.log(j)
            filled = 1.0 - (1.0 - k / BLOCK_BITS) ** j
            total += math.exp(log_p) * filled**k
        return total


def _grid(step: int) -> int:
    """Filter sizes come from a fixed grid (2^(1/8) apart), so filters of similar size share a shape and
    the store can lay them side by side; a filter is at most ~9% larger than it needs to be."""
    return math.ceil(2 ** (step / 8))


def shape_for(keys: int, false_positive_rate: float = DEFAULT_FALSE_POSITIVE_RATE) -> FilterShape:
    """The smallest shape on the grid whose false-positive rate for `keys` keys is at most the target."""
    if not MIN_FALSE_POSITIVE_RATE <= false_positive_rate < 1:
        raise InvalidArgument(
            f"the false-positive rate must be between {MIN_FALSE_POSITIVE_RATE:g} and 1; got {false_positive_rate:g}",
            field="falsePositiveRate",
        )
    hashes = max(1, round(-math.log2(false_positive_rate)))
    # Start a little below the standard Bloom filter's size (blocking only ever needs more bits).
    bits = keys * hashes / math.log(2)
    step = max(0, math.floor(8 * math.log2(max(1.0, bits / BLOCK_BITS))) - 1)
    while FilterShape(_grid(step), hashes).false_positive_rate(keys) > false_positive_rate:
        step += 1
    return FilterShape(_grid(step), hashes)


def probes(words: Hashes, shape: FilterShape) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """For each hash: its block (from the first word, by multiply-shift) and its bit positions within the
    block (from the second word, each through the splitmix64 finaliser, so the positions of different
    keys are independent). The measured false-positive rate matches `FilterShape.false_positive_rate`
    (tests/unit/domain/test_membership.py)."""
    first, second = words[:, 0], words[:, 1]
    block = ((first >> np.uint64(32)) * np.uint64(shape.blocks)) >> np.uint64(32)
    i = np.arange(1, shape.hashes + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = second[:, None] + i[None, :] * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return block, x >> np.uint64(64 - 9)


def build_filter(words: Hashes, shape: FilterShape) -> npt.NDArray[np.uint8]:
    """The filter's bytes, shape (blocks, 64). One byte per bit while building (numpy sets those in bulk;
    ~20 bytes per key for a moment), then packed."""
    block, positions = probes(words, shape)
    bits = np.zeros(shape.blocks * BLOCK_BITS, dtype=np.bool_)
    bits[(block[:, None] * np.uint64(BLOCK_BITS) + positions).ravel()] = True
    return np.packbits(bits, bitorder="little").reshape(shape.blocks, BLOCK_BYTES)


def rows_hold(rows: npt.NDArray[np.uint8], positions: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Given the same block of many filters (`rows`, shape (filters, 64)) and one key's bit positions,
    which filters have every bit set."""
    byte = (positions >> np.uint64(3)).astype(np.intp)
    bit = (positions & np.uint64(7)).astype(np.uint8)
    held: npt.NDArray[np.bool_] = np.all((rows[:, byte] >> bit) & 1, axis=1)
    return held


def holds_exactly(sorted_words: Hashes, one: Hashes) -> bool:
    """Whether the sorted hashes contain the one hash (binary search on the first word)."""
    hi, lo = one[0, 0], one[0, 1]
    start = int(np.searchsorted(sorted_words[:, 0], hi, side="left"))
    end = int(np.searchsorted(sorted_words[:, 0], hi, side="right"))
    return bool(np.any(sorted_words[start:end, 1] == lo))


def as_words(raw: bytes) -> Hashes:
    """One 16-byte hash as a (1, 2) word array."""
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(1, 2)


@dataclass(frozen=True)
class RecordHolder:
    """A dataset version or slice that holds the record, how surely, and why."""

    data_id: str
    certainty: Certainty
    basis: Basis
    source_id: str | None  # the source its registration attributes the record to (None when inherited)
    false_positive_rate: float | None  # for FILTER (and INHERITED from a FILTER holder)
    via: str | None = None  # for INHERITED: the holder it was derived from


@dataclass(frozen=True)
class StoppedDerivation:
    """A version derived from a holder by a transform not declared key-preserving and without keys of its
    own (an aggregation, say): whether it holds the record is unknown, and the walk stops there."""

    data_id: str
    derived_from: str


@dataclass(frozen=True)
class RecordRun:
    run_id: str
    certainty: Certainty  # DEFINITELY when it used a definite holder
    data_ids: tuple[str, ...]  # the holders it used


MAX_ROW_RANGES = 10_000


def row_ranges(ranges: list[tuple[int, int]], field: str = "ranges") -> list[tuple[int, int]]:
    """Row-id ranges (inclusive), sorted and merged. Storage layers with stable row ids (Iceberg v3 row
    lineage, Delta row tracking) give a data file's rows a contiguous range, so a version's rows are a few
    ranges, not a list of rows."""
    if not ranges:
        raise InvalidArgument("at least one row range is needed", field=field)
    if len(ranges) > MAX_ROW_RANGES:
        raise InvalidArgument(f"at most {MAX_ROW_RANGES:,} row ranges per registration", field=field)
    for first, last in ranges:
        if first < 0 or last < first or last >= 2**63:
            raise InvalidArgument(
                f"a row range needs 0 <= first <= last < 2^63; got [{first}, {last}]", field=field
            )
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def stronger(a: Certainty, b: Certainty) -> Certainty:
    return Certainty.DEFINITELY if Certainty.DEFINITELY in (a, b) else Certainty.POSSIBLY


@dataclass(frozen=True)
class RecordModel:
    """A model version that learned from the record (trained on a holder, or fine-tuned from one that did)."""

    version: VersionAt  # the model version, its stage at asOf and its live deployments
    certainty: Certainty
    run_ids: tuple[str, ...]  # the runs through which it learned from the record
    inferences: int  # inferences served by it up to asOf


@dataclass(frozen=True)
class RecordProvenance:
    """Where one record is: every holder, what the walk could not follow, the runs that used a holder, and
    the model versions downstream with where they run."""

    key_hash: str | None
    row: tuple[str, int] | None  # (table, row id), when the record was named by its row
    as_of: datetime
    known_at: datetime
    holders: tuple[RecordHolder, ...]
    stopped: tuple[StoppedDerivation, ...]
    runs: tuple[RecordRun, ...]
    model_versions: tuple[RecordModel, ...]

    @property
    def inferences(self) -> int:
        return sum(model.inferences for model in self.model_versions)
