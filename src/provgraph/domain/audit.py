"""Tamper evidence: keyed seals on hash-chained facts, and checkpoints an auditor keeps outside the database.

A hash chain shows that stored facts agree with each other; it cannot show that someone with write access
to the database did not edit a fact and recompute every hash after it. Two things close that gap:

- every chained fact also carries a MAC: HMAC-SHA256 of its hash under the service's audit key, which lives
  in the service's configuration, never in the database — recomputing a chain without the key breaks the
  MACs;
- a checkpoint: the head (sequence number and hash) of every chain at a moment, signed with the same key.
  An auditor keeps it; verifying against it later detects truncation (a chain shorter than its checkpointed
  head), rewrites (a different hash at a checkpointed position) and deleted chains (a head that is gone).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditKey:
    """The secret the service seals facts with. `id` names it without revealing it (key rotation, and
    telling "sealed with another key" from "tampered")."""

    secret: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(b"provgraph-audit-key:" + self.secret).hexdigest()[:16]

    def seal(self, digest: str) -> str:
        return hmac.new(self.secret, digest.encode(), hashlib.sha256).hexdigest()

    def verifies(self, digest: str, seal: str | None) -> bool:
        return seal is not None and hmac.compare_digest(self.seal(digest), seal)


def content_hash(content: object) -> str:
    """SHA-256 of a fact's canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def canonical(content: object) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=_default)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | frozenset | set):
        return sorted(value, key=repr) if not isinstance(value, tuple) else list(value)
    raise TypeError(f"not canonical JSON: {type(value).__name__}")


@dataclass(frozen=True)
class ChainHead:
    """Where one chain stands: its name (`model:sentiment`, `ledger:serving`), length and last hash."""

    chain: str
    seq: int
    hash: str | None


@dataclass(frozen=True)
class Checkpoint:
    """The heads of every chain at `taken_at`, sealed with the audit key (`signature`)."""

    taken_at: datetime
    heads: tuple[ChainHead, ...]
    key_id: str
    signature: str

    def payload(self) -> dict[str, object]:
        return {
            "format": "provgraph-checkpoint/1",
            "takenAt": self.taken_at.isoformat(),
            "keyId": self.key_id,
            "heads": [{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in self.heads],
        }

    def to_json(self) -> str:
        return canonical({**self.payload(), "signature": self.signature})


def sign_checkpoint(key: AuditKey, taken_at: datetime, heads: list[ChainHead]) -> Checkpoint:
    ordered = tuple(sorted(heads, key=lambda h: h.chain))
    unsigned = Checkpoint(taken_at, ordered, key.id, "")
    return Checkpoint(taken_at, ordered, key.id, key.seal(content_hash(unsigned.payload())))
