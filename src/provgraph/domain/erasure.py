"""Erasure requests: the key hashes a case is about, its id, and the snapshot it keeps.

An erasure case names records by their keyed hashes (what `recordProvenance` takes), never by their keys.
Its id is derived from the sorted hashes, so the same request sent twice is the same case. Its snapshot is
the `recordProvenance` answer for each hash at the moment the case was opened — holders with certainty and
basis, derivations the answer could not follow, runs, and the model versions that learned from a holder
with their stage, live deployments and inferences then — plus the model versions affected by any of them
(`modelVersionIds`, the versions the case needs a decision about).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from provgraph.domain import membership as m
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind, make_id

MAX_KEY_HASHES = 1000  # per case: a person's records, not a dataset (a source exclusion covers that)


def key_hash_set(given: Sequence[str], field: str = "keyHashes") -> tuple[str, ...]:
    """The key hashes of a request, each checked, sorted and without repeats."""
    if not given:
        raise InvalidArgument("an erasure case needs at least one key hash", field=field)
    if len(given) > MAX_KEY_HASHES:
        raise InvalidArgument(
            f"at most {MAX_KEY_HASHES} key hashes per erasure case; got {len(given)}", field=field
        )
    for text in given:
        m.parse_key_hash(text, field)
    return tuple(sorted(set(given)))


def key_hashes_digest(hashes: Sequence[str]) -> str:
    """`sha256:<hex>` of the sorted hashes' bytes (the digest a key registration of them would have)."""
    return "sha256:" + hashlib.sha256(b"".join(bytes.fromhex(h) for h in hashes)).hexdigest()


def erasure_case_id(hashes: Sequence[str]) -> str:
    """`erasureCase:<16 hex>`: the first 16 hex digits of the sorted hashes' digest."""
    return make_id(Kind.ERASURE_CASE, key_hashes_digest(hashes).removeprefix("sha256:")[:16])


def erasure_snapshot(
    answers: Mapping[str, m.RecordProvenance], as_of: datetime, known_at: datetime
) -> dict[str, Any]:
    """The answers (by key hash) as a case keeps them: plain JSON values, every list sorted, one entry per
    key hash (in hash order), and the affected model versions across all of them."""
    records = []
    models: dict[str, dict[str, Any]] = {}
    for key_hash, answer in sorted(answers.items()):
        records.append(_record(key_hash, answer))
        for x in answer.model_versions:
            mv = x.version.model_version
            seen = models.setdefault(
                mv.id,
                {
                    "id": mv.id,
                    "stage": x.version.stage.value,
                    "liveDeploymentIds": sorted(d.id for d in x.version.live_deployments),
                    "inferences": x.inferences,
                    "certainty": x.certainty.value,
                    "keyHashCount": 0,
                },
            )
            seen["keyHashCount"] += 1
            if x.certainty is m.Certainty.DEFINITELY:
                seen["certainty"] = m.Certainty.DEFINITELY.value
    return {
        "asOf": as_of.isoformat(),
        "knownAt": known_at.isoformat(),
        "keyHashCount": len(records),
        "records": records,
        "dataIds": sorted({h["dataId"] for r in records for h in r["holders"]}),
        "runIds": sorted({run["runId"] for r in records for run in r["runs"]}),
        "modelVersions": [models[i] for i in sorted(models)],
        "modelVersionIds": sorted(models),
        "inferenceCounts": {i: models[i]["inferences"] for i in sorted(models)},
        "inferences": sum(model["inferences"] for model in models.values()),
    }


def _record(key_hash: str, answer: m.RecordProvenance) -> dict[str, Any]:
    return {
        "keyHash": key_hash,
        "holders": [
            {
                "dataId": h.data_id,
                "certainty": h.certainty.value,
                "basis": h.basis.value,
                "sourceId": h.source_id,
                "falsePositiveRate": h.false_positive_rate,
                "via": h.via,
            }
            for h in answer.holders
        ],
        "stopped": [{"dataId": s.data_id, "derivedFrom": s.derived_from} for s in answer.stopped],
        "runs": [
            {"runId": r.run_id, "certainty": r.certainty.value, "dataIds": list(r.data_ids)}
            for r in answer.runs
        ],
        "modelVersionIds": [x.version.model_version.id for x in answer.model_versions],
    }
