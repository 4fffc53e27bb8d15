"""Record keys on the client: the keyed hashes the SDK sends instead of keys, the upload that registers
them (`POST /v1/record-keys`), and the questions about one record (`recordProvenance`).

A record key becomes `HMAC-SHA256(secret, key)`, first 16 bytes — the definition the service documents
(`provgraph.domain.membership.key_hash`; tests/unit/client/test_record_key_hashes.py holds the two to the
same vectors). The SDK computes HMAC from its RFC 2104 definition over two precomputed SHA-256 states
rather than through `hmac`: a copy of each state per key is ~0.65 µs where `hmac`'s copy is ~1.1 µs, and
10 million keys are the size this is for. It imports nothing from the server (the domain module needs
numpy). The secret never leaves this module: only hashes go on the wire.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from provgraph.client import _documents as doc
from provgraph.client._call import Call, iso, one, ref, rest_url
from provgraph.client._enums import Certainty, MembershipBasis, Stage
from provgraph.client._errors import InvalidArgumentError, rest_error
from provgraph.client._models import Deployment, ModelVersion, parse

KEY_HASH_BYTES = 16
MIN_SECRET_BYTES = 16  # a shorter secret could be guessed, and with it every key tested
DEFAULT_FALSE_POSITIVE_RATE = 1e-4
RECORD_KEYS_PATH = "/v1/record-keys"
_BLOCK = 64  # SHA-256's block size: HMAC pads the secret to it
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))
_CHUNK = 1 << 20  # bytes per piece of the upload


@dataclass(frozen=True)
class RecordKeyRegistration:
    """The record keys recorded for a dataset version or slice from one source. `exact`: the hashes
    themselves are kept (answers are DEFINITELY); otherwise only the Bloom filter (POSSIBLY, at
    `false_positive_rate`). `created` is False when an identical registration was already recorded."""

    id: str
    subject_id: str
    source_id: str
    digest: str
    keys: int
    exact: bool
    false_positive_rate: float
    bytes: int
    recorded_at: datetime
    recorded_by: str
    created: bool


@dataclass(frozen=True)
class RecordHolder:
    """A dataset version or slice holding the record; `via` is the holder it inherits from (INHERITED)."""

    data_id: str
    certainty: Certainty
    basis: MembershipBasis
    source_id: str | None = None
    false_positive_rate: float | None = None
    via: str | None = None


@dataclass(frozen=True)
class StoppedDerivation:
    """Data derived from a holder by a transform that may lose keys (an aggregation): the answer stops."""

    data_id: str
    derived_from: str


@dataclass(frozen=True)
class RecordRun:
    run_id: str
    certainty: Certainty
    data_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecordModelVersion:
    """A model version that learned from the record, as it was at `as_of`."""

    model_version: ModelVersion
    stage: Stage
    live_deployments: list[Deployment]
    certainty: Certainty
    run_ids: list[str]
    inferences: int


@dataclass(frozen=True)
class RecordProvenance:
    """Where one record is, and which model versions learned from it and where they run."""

    as_of: datetime
    holders: list[RecordHolder]
    stopped: list[StoppedDerivation]
    runs: list[RecordRun]
    model_versions: list[RecordModelVersion]
    inferences: int
    key_hash: str | None = None


@dataclass(frozen=True)
class KeyPreservingTransform:
    dataset_version_id: str
    transform: str
    declared_at: datetime
    created: bool


def _hasher(secret: bytes | str) -> Callable[[bytes], bytes]:
    """The keyed hash of one key as a function, with the secret's padded states computed once."""
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_SECRET_BYTES:
        raise InvalidArgumentError(
            f"the secret is {len(raw)} bytes; use at least {MIN_SECRET_BYTES} random bytes "
            "(e.g. secrets.token_bytes(32)), kept where the service cannot read it",
            code="INVALID_ARGUMENT",
            field="secret",
        )
    if len(raw) > _BLOCK:
        raw = hashlib.sha256(raw).digest()
    padded = raw.ljust(_BLOCK, b"\0")
    inner_copy = hashlib.sha256(padded.translate(_INNER)).copy
    outer_copy = hashlib.sha256(padded.translate(_OUTER)).copy

    def one(key: bytes) -> bytes:
        inner = inner_copy()
        inner.update(key)
        outer = outer_copy()
        outer.update(inner.digest())
        return outer.digest()[:KEY_HASH_BYTES]

    return one


def _raw(key: str | bytes) -> bytes:
    if isinstance(key, str):
        return key.encode()
    if isinstance(key, bytes | bytearray | memoryview):
        return bytes(key)
    raise TypeError(f"a record key is str or bytes, not {type(key).__name__} (format it as you always will)")


def key_hash(key: str | bytes, *, secret: bytes | str) -> str:
    """A record key's keyed hash, as `recordProvenance` takes it: HMAC-SHA256 of the key (str as UTF-8)
    under `secret` (bytes, or str as UTF-8; at least 16 bytes), first 16 bytes, in hex."""
    return _hasher(secret)(_raw(key)).hex()


def hash_keys(keys: Iterable[str | bytes], secret: bytes | str) -> bytearray:
    """The keys' hashes, 16 bytes each, concatenated (the upload's body)."""
    one = _hasher(secret)
    out = bytearray()
    for key in keys:
        out += one(key.encode() if isinstance(key, str) else _raw(key))
    return out


@dataclass(frozen=True)
class KeysUpload:
    """One registration's request: sent in pieces from one buffer, so 10 million keys (160 MB) are not
    copied again, and sent again whole on a retry (an identical registration is recorded once)."""

    url: str
    params: dict[str, str]
    body: bytearray

    def headers(self, base: dict[str, str]) -> dict[str, str]:
        return {
            **base,
            "content-type": "application/octet-stream",
            "content-length": str(len(self.body)),
        }

    def timeout(self, configured: httpx.Timeout) -> httpx.Timeout:
        """The service sorts the hashes and builds the filter before it answers: about a second per
        million keys on a small machine, so the read timeout grows with the upload."""
        if configured.read is None:
            return configured
        read = max(configured.read, 30.0 + 3.0 * len(self.body) / (KEY_HASH_BYTES * 1_000_000))
        return httpx.Timeout(
            connect=configured.connect, read=read, write=configured.write, pool=configured.pool
        )

    def pieces(self) -> Iterator[bytes]:
        view = memoryview(self.body)
        for start in range(0, len(view), _CHUNK):
            yield bytes(view[start : start + _CHUNK])

    async def apieces(self) -> AsyncIterator[bytes]:
        for piece in self.pieces():
            yield piece


def keys_upload(
    graphql_url: str,
    subject_id: str,
    source_id: str,
    keys: Iterable[str | bytes],
    secret: bytes | str,
    false_positive_rate: float,
) -> KeysUpload:
    params = {
        "subject": subject_id,
        "source": ref("source", source_id),
        "falsePositiveRate": repr(float(false_positive_rate)),
    }
    return KeysUpload(rest_url(graphql_url, RECORD_KEYS_PATH), params, hash_keys(keys, secret))


def read_registration(response: httpx.Response) -> RecordKeyRegistration:
    """The registration (201 recorded now, 200 recorded before), or the typed error."""
    if response.status_code in (200, 201):
        return parse(RecordKeyRegistration, response.json())
    raise rest_error(response)


def record_provenance(
    key: str | bytes | None = None,
    *,
    secret: bytes | str | None = None,
    key_hash: str | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    max_depth: int | None = None,
) -> Call[RecordProvenance]:
    """Where one record is: every dataset version and slice holding it (DEFINITELY or POSSIBLY), the
    derivations the answer could not follow, the runs that used its data, and the model versions that
    learned from it with their stage, live deployments and inferences at `as_of`. Name the record by
    `key` and `secret` (hashed here; the key is never sent) or by its `key_hash`."""
    if (key is None) == (key_hash is None):
        raise InvalidArgumentError(
            "give either key (with secret) or key_hash", code="INVALID_ARGUMENT", field="key"
        )
    if key is not None:
        if secret is None:
            raise InvalidArgumentError(
                "a key is hashed with the secret its data was registered with; give secret",
                code="INVALID_ARGUMENT",
                field="secret",
            )
        key_hash = _hasher(secret)(_raw(key)).hex()
    return Call(
        doc.RECORD_PROVENANCE,
        {"keyHash": key_hash, "asOf": iso(as_of), "knownAt": iso(known_at), "maxDepth": max_depth},
        one(RecordProvenance, "recordProvenance"),
    )


def declare_key_preserving_transform(dataset_version_id: str, transform: str) -> Call[KeyPreservingTransform]:
    """Declare that a derived dataset version's transform keeps its parents' record keys (a filter, a
    dedupe, a split; `transform` names it), so record membership follows its derivations. Repeating it
    answers `created=False`; a different transform for the same version is a `ConflictError`."""
    return Call(
        doc.DECLARE_KEY_PRESERVING_TRANSFORM,
        {"id": dataset_version_id, "transform": transform},
        one(KeyPreservingTransform, "declareKeyPreservingTransform"),
    )
