"""The columnar inference path: `POST /v1/inferences` appended to the landing log instead of the graph.

Selected with `PROVGRAPH_INFERENCE_SINK=columnar`. A request is checked and resolved as whole columns
(pyarrow compute kernels and numpy, never a Python loop per inference), resolved against one graph read
for the model versions and endpoints it names, appended to the landing log and flushed to disk before the
answer. The sealer (service/sealing.py) makes the rows visible — counted, traced, audited — within
`PROVGRAPH_SEAL_EVERY` seconds, dropping repeats so every query sees each inference once.

The column checks are at least as strict as the per-inference ones of the graph path: a batch they do
not pass in full (a bad timestamp, an odd digest, a repeated key) is checked item by item with the graph
path's own rules, so the same input gets the same rejections on either path; only the speed differs.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from provgraph.domain.errors import ProvgraphError
from provgraph.domain.ids import NAME_PATTERN, Kind
from provgraph.domain.records import Caller
from provgraph.domain.serving import BatchOutcome, InferenceSpec, Rejection
from provgraph.domain.time import utcnow
from provgraph.service import validate as v
from provgraph.service.serving import MAX_LATENCY_MS, check_batch_size, checked_batch
from provgraph.store.landing import LandingLog
from provgraph.store.sealing import Resolution, SealStore
from provgraph.store.serving import REJECTION_TEXT

UTC_US = pa.timestamp("us", tz="UTC")
ITEM = pa.struct(
    [
        ("key", pa.string()),
        ("at", pa.string()),
        ("modelVersionId", pa.string()),
        ("endpoint", pa.string()),
        ("inputDigest", pa.string()),
        ("outputDigest", pa.string()),
        ("latencyMs", pa.float64()),
    ]
)
_KEY = "^" + NAME_PATTERN.pattern + "$"
_AT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_DIGEST = r"^[!-~]{1,256}$"  # printable ASCII without spaces: a subset of what the line rule allows
_FUTURE_SLACK_US = int(v.FUTURE_SLACK_SECONDS * 1e6)


def parse_columns(raw: bytes, content_type: str) -> pa.Table | None:
    """The body's inferences as columns, or None when the body needs the item-by-item reading (anything
    but well-formed objects with fields of the right JSON types)."""
    options = pj.ParseOptions(unexpected_field_behavior="ignore")
    try:
        if "ndjson" in content_type:
            options.explicit_schema = pa.schema(list(ITEM))
            return pj.read_json(io.BytesIO(raw), parse_options=options)
        options.explicit_schema = pa.schema([("inferences", pa.list_(ITEM))])
        table = pj.read_json(
            io.BytesIO(raw), read_options=pj.ReadOptions(block_size=len(raw) + 1), parse_options=options
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    column = table.column("inferences").combine_chunks()
    if table.num_rows != 1 or column.null_count or column[0].values.null_count:
        return None
    return pa.Table.from_struct_array(column.flatten())


def _all(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.all(pc.fill_null(mask, False)).as_py())


def _valid_columns(items: pa.Table, now: datetime) -> pa.Table | None:
    """The items with `at` as a timestamp, if every item passes the column checks; None otherwise."""
    key, at = items.column("key"), items.column("at")
    if not (_all(pc.match_substring_regex(key, _KEY)) and _all(pc.match_substring_regex(at, _AT))):
        return None
    if pc.count_distinct(key).as_py() != items.num_rows:
        return None
    for name in ("inputDigest", "outputDigest"):
        column = items.column(name)
        if column.null_count < len(column) and not _all(
            pc.or_(pc.is_null(column), pc.match_substring_regex(column, _DIGEST))
        ):
            return None
    latency = items.column("latencyMs")
    inside = pc.and_(pc.greater_equal(latency, 0.0), pc.less_equal(latency, MAX_LATENCY_MS))
    if not _all(pc.or_(pc.is_null(latency), inside)):
        return None
    named = pc.or_(pc.is_valid(items.column("modelVersionId")), pc.is_valid(items.column("endpoint")))
    if not _all(named):
        return None
    try:
        moments = pc.cast(at, UTC_US)
    except pa.ArrowInvalid:
        return None
    latest = int(now.timestamp() * 1e6) + _FUTURE_SLACK_US
    if pc.max(moments.cast(pa.int64())).as_py() > latest:
        return None
    # The few distinct names go through the graph path's own validators.
    try:
        for value in pc.unique(items.column("modelVersionId")).to_pylist():
            if value is not None:
                v.opt_id(value, "modelVersionId", Kind.MODEL_VERSION)
        for value in pc.unique(items.column("endpoint")).to_pylist():
            if value is not None:
                v.name(value, "endpoint")
    except ProvgraphError:
        return None
    return items.set_column(items.schema.get_field_index("at"), "at", moments)


def _spec_columns(specs: Sequence[InferenceSpec]) -> pa.Table:
    return pa.table(
        {
            "key": [s.key for s in specs],
            "at": pa.array([s.at for s in specs], UTC_US),
            "modelVersionId": [s.model_version_id for s in specs],
            "endpoint": [s.endpoint for s in specs],
            "inputDigest": [s.input_digest for s in specs],
            "outputDigest": [s.output_digest for s in specs],
            "latencyMs": pa.array([s.latency_ms for s in specs], pa.float64()),
        }
    )


class ColumnarSink:
    """Accepts inference batches into the landing log (the request side of the columnar path)."""

    def __init__(self, store: SealStore, landing: LandingLog, max_batch_size: int) -> None:
        self.store = store
        self.landing = landing
        self.max_batch_size = max_batch_size

    async def accept_body(self, raw: bytes, content_type: str, caller: Caller) -> BatchOutcome | None:
        """Land a whole body checked as columns; None when it needs the item-by-item reading instead."""
        items = parse_columns(raw, content_type)
        if items is None:
            return None
        check_batch_size(items.num_rows, self.max_batch_size)
        if items.num_rows == 0:
            return BatchOutcome(accepted=0, duplicates=0, rejected=())
        now = utcnow()
        checked = _valid_columns(items, now)
        if checked is None:
            return None
        return await self._resolve_and_land(checked, list(range(items.num_rows)), [], caller, now)

    async def accept_specs(
        self, specs: Sequence[tuple[int, InferenceSpec]], early: list[Rejection], caller: Caller
    ) -> BatchOutcome:
        """Land items read one by one (`specs` with their positions in the body), checked by the graph
        path's rules; `early` are the items already refused while reading."""
        check_batch_size(len(specs) + len(early), self.max_batch_size)
        valid, rejected = checked_batch(specs)
        rejected = early + rejected
        table = _spec_columns([s for _, s in valid])
        return await self._resolve_and_land(table, [i for i, _ in valid], rejected, caller, utcnow())

    async def _resolve_and_land(
        self, items: pa.Table, positions: list[int], rejected: list[Rejection], caller: Caller, now: datetime
    ) -> BatchOutcome:
        if items.num_rows:
            names = items.column("modelVersionId"), items.column("endpoint")
            resolution = await self.store.resolution(
                [x for x in pc.unique(names[0]).to_pylist() if x is not None],
                ["endpoint:" + x for x in pc.unique(names[1]).to_pylist() if x is not None],
            )
            resolved = _resolve(items, resolution)
            landed = _landed(items, resolved, caller.name, now)
            if landed.num_rows:
                await asyncio.to_thread(self.landing.append, landed)
            for row in np.flatnonzero(resolved.problem):
                status = _PROBLEMS[resolved.problem[row]]
                rejected.append(_rejection(items, int(row), status, positions[row]))
        else:
            landed = items
        return BatchOutcome(
            accepted=landed.num_rows, duplicates=0, rejected=tuple(sorted(rejected, key=lambda r: r.index))
        )


_PROBLEMS = [
    "",
    "NOT_FOUND|modelVersionId",
    "NOT_FOUND|endpoint",
    "NO_LIVE_DEPLOYMENT|endpoint",
    "AMBIGUOUS_DEPLOYMENT|endpoint",
    "BEFORE_VERSION|at",
]
_NO_MV, _NO_EP, _NO_LIVE, _AMBIGUOUS, _EARLY = 1, 2, 3, 4, 5
_NEVER = np.iinfo(np.int64).max


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """A string column as integer codes (-1 for null) and the distinct values they index."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def _us(t: datetime | None, default: int) -> int:
    return default if t is None else int(t.timestamp() * 1_000_000)


@dataclass
class _Resolved:
    problem: np.ndarray  # index into _PROBLEMS
    model: np.ndarray  # index into models
    models: list[str]
    deployment: np.ndarray  # index into deployments, -1 for none
    deployments: list[str]


def _resolve(items: pa.Table, resolution: Resolution) -> _Resolved:
    """Per row: the problem, the model version and the deployment — the graph path's rules in the graph
    path's order, worked out on integer codes per distinct model version and endpoint."""
    n = items.num_rows
    at = items.column("at").cast(pa.int64()).to_numpy()
    mv, mv_names = _codes(items.column("modelVersionId"))
    ep, ep_names = _codes(items.column("endpoint"))
    problem = np.zeros(n, dtype=np.int8)
    models = list(mv_names)
    model = mv.copy()
    deployments: list[str] = []
    deployment = np.full(n, -1, dtype=np.int64)
    valid_from = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    for code, name in enumerate(mv_names):
        rows = mv == code
        if name in resolution.versions:
            valid_from[rows] = _us(resolution.versions[name], 0)
        else:
            problem[rows] = _NO_MV
    for code, name in enumerate(ep_names):
        rows = np.flatnonzero(ep == code)
        found = resolution.deployments.get("endpoint:" + name)
        if found is None:
            problem[rows[problem[rows] == 0]] = _NO_EP
            continue
        live_count = np.zeros(len(rows), dtype=np.int64)
        named = mv[rows]
        for dep_id, dep_mv, started, ended in sorted(found, reverse=True):  # ascending ids win: set last
            t = at[rows]
            live = (t >= _us(started, 0)) & (t < _us(ended, _NEVER))
            if dep_mv in mv_names:
                live &= (named == -1) | (named == mv_names.index(dep_mv))
            else:
                live &= named == -1
            live_count += live
            deployments.append(dep_id)
            deployment[rows[live]] = len(deployments) - 1
            if dep_mv not in models:
                models.append(dep_mv)
            model[rows[live & (named == -1)]] = models.index(dep_mv)
        open_rows = problem[rows] == 0
        problem[rows[open_rows & (live_count == 0)]] = _NO_LIVE
        problem[rows[open_rows & (live_count > 1) & (named == -1)]] = _AMBIGUOUS
    problem[(mv >= 0) & (problem == 0) & (valid_from > at)] = _EARLY
    return _Resolved(problem, model, models, deployment, deployments)


def _decoded(codes: np.ndarray, values: list[str]) -> pa.Array:
    indices = pa.array(codes, pa.int32(), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string())).cast(pa.string())


def _landed(items: pa.Table, resolved: _Resolved, actor: str, now: datetime) -> pa.Table:
    keep = resolved.problem == 0
    kept = items.filter(pa.array(keep))
    n = kept.num_rows
    return pa.table(
        {
            "id": pc.binary_join_element_wise("inference:", kept.column("key"), ""),
            "at": kept.column("at"),
            "model_version_id": _decoded(resolved.model[keep], resolved.models),
            "deployment_id": _decoded(resolved.deployment[keep], resolved.deployments),
            "input_digest": kept.column("inputDigest"),
            "output_digest": kept.column("outputDigest"),
            "latency_ms": kept.column("latencyMs"),
            "recorded_by": pa.repeat(pa.scalar(actor), n) if n else pa.array([], pa.string()),
            "landed_at": pa.repeat(pa.scalar(now, UTC_US), n) if n else pa.array([], UTC_US),
        }
    )


def _rejection(items: pa.Table, row: int, status: str, position: int) -> Rejection:
    key = items.column("key")[row].as_py()
    mv = items.column("modelVersionId")[row].as_py()
    ep = items.column("endpoint")[row].as_py()
    at = items.column("at")[row].as_py()
    code, template = REJECTION_TEXT[status]
    reason = template.format(mv=mv, ep=ep, at=at.isoformat(), id=key, of=f" of {mv}" if mv else "")
    return Rejection(index=position, key=key, code=code, reason=reason, field=status.split("|")[1])
