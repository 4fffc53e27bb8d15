"""How MLflow's names and values become provgraph's (pure functions, no I/O).

Every mapping is deterministic: a second import computes the same names, so its registrations are
repeats (`created: false`) rather than new nodes. A name provgraph accepts as it is stays as it is; one it
does not (spaces, ':', a leading '_', too long) has each run of bad characters replaced by '-' and gets
'-' plus the first 8 hex digits of the SHA-256 of the original appended, so two MLflow names never land
on one provgraph name.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from provgraph.domain.ids import NAME_PATTERN
from provgraph.domain.registry import ALLOWED_TRANSITIONS, Stage

# The service's rules for parameter and metric keys, aliases and tags (service/validate.py).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.\-/]{1,128}")
ALIAS_PATTERN = re.compile(r"[a-z][a-z0-9_\-]{0,63}")
TAG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-:]{0,63}")
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_\-]{0,31}")
MAX_VALUE = 4096  # characters in a parameter value
MAX_ENTRIES = 500  # parameters, or metrics, per run

# MLflow's `mlflow.data.context` input tag → provgraph's input role.
ROLES = {
    "training": "TRAIN",
    "train": "TRAIN",
    "validation": "VALIDATION",
    "valid": "VALIDATION",
    "val": "VALIDATION",
    "testing": "TEST",
    "test": "TEST",
}
# When a run logged one dataset in several contexts, provgraph keeps one input: the strongest role.
ROLE_RANK = {"TRAIN": 0, "VALIDATION": 1, "TEST": 2, "OTHER": 3}

STATUSES = {"FINISHED": "FINISHED", "FAILED": "FAILED", "KILLED": "FAILED"}  # RUNNING, SCHEDULED: RUNNING
STAGES = {
    "none": Stage.NONE,
    "staging": Stage.STAGING,
    "production": Stage.PRODUCTION,
    "archived": Stage.ARCHIVED,
}

# Keys of a dataset source's JSON that name where the data lives, in order of preference (http: url;
# s3, gs, local, uc_volume, file system: uri or path; delta: path or table name; spark: path or table).
LOCATION_KEYS = ("uri", "url", "path", "delta_table_name", "table_name", "table")


def _suffix(raw: str) -> str:
    return "-" + hashlib.sha256(raw.encode()).hexdigest()[:8]


def _mapped(raw: str, bad: str, max_len: int, lead: str) -> str:
    """Replace runs of characters outside `bad`'s complement by '-', drop leading characters in `lead`,
    and append the hash suffix (cut to `max_len`)."""
    cleaned = re.sub(bad, "-", raw).lstrip(lead).rstrip("-")
    suffix = _suffix(raw)
    return cleaned[: max_len - len(suffix)] + suffix if cleaned else suffix[1:]


def provgraph_name(raw: str) -> str:
    """A name provgraph accepts (experiments, datasets, versions, models, sources)."""
    if NAME_PATTERN.fullmatch(raw):
        return raw
    return _mapped(raw, r"[^A-Za-z0-9._\-/+]+", 128, "._-/+")


def metric_key(raw: str) -> str:
    """A parameter or metric key provgraph accepts."""
    if KEY_PATTERN.fullmatch(raw):
        return raw
    return _mapped(raw, r"[^A-Za-z0-9_.\-/]+", 128, "")


def alias_name(raw: str) -> str:
    """An alias provgraph accepts: lower-case letters, digits, '_' and '-', starting with a letter."""
    if ALIAS_PATTERN.fullmatch(raw):
        return raw
    cleaned = re.sub(r"[^a-z0-9_\-]+", "-", raw.lower()).lstrip("0123456789_-").rstrip("-")
    suffix = _suffix(raw)
    return (cleaned or "alias")[: 64 - len(suffix)] + suffix


def source_kind(source_type: str) -> str:
    """MLflow's source type (s3, http, local, delta_table, huggingface, …) as a provgraph source kind."""
    kind = re.sub(r"[^a-z0-9_\-]+", "-", source_type.lower())[:32]
    return kind if KIND_PATTERN.fullmatch(kind) else "mlflow"


def input_role(context: str | None) -> str:
    """training → TRAIN, validation → VALIDATION, testing → TEST, anything else (eval, none) → OTHER."""
    return ROLES.get((context or "").strip().lower(), "OTHER")


def run_status(status: str) -> str:
    return STATUSES.get(status, "RUNNING")


def stage_of(mlflow_stage: str | None) -> Stage | None:
    """MLflow's current_stage ("None", "Staging", "Production", "Archived"); None when unknown."""
    return STAGES.get((mlflow_stage or "none").lower())


def stage_path(current: Stage, target: Stage) -> list[Stage]:
    """The stages to go through, in order, to reach `target` under provgraph's stage rules (NONE →
    PRODUCTION goes through STAGING). Already there: `[target]`, a repeat the service answers with
    `created: false` — except NONE, which no event records, so there is nothing to send."""
    if current is target:
        return [] if target is Stage.NONE else [target]
    previous: dict[Stage, Stage] = {}
    queue = deque([current])
    while queue:
        stage = queue.popleft()
        for following in sorted(ALLOWED_TRANSITIONS[stage], key=lambda s: s.value):
            if following not in previous and following is not current:
                previous[following] = stage
                queue.append(following)
    path = [target]
    while previous[path[-1]] is not current:
        path.append(previous[path[-1]])
    return path[::-1]


def from_ms(value: int | None) -> datetime | None:
    """MLflow's timestamps are milliseconds since the epoch."""
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is UTC (a bare date means its midnight, UTC)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r} is not an ISO 8601 date or time (e.g. 2026-03-01T09:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _is_line(value: str, max_len: int) -> bool:
    return 0 < len(value) <= max_len and value == value.strip() and not re.search(r"[\x00-\x1f\x7f]", value)


@dataclass(frozen=True)
class SourceRef:
    """Where a dataset's data came from, as a provgraph source: `<scheme or type>/<location>` names it
    (e.g. `s3/acme-bucket/reviews.csv`); `uri` keeps MLflow's location exactly."""

    name: str
    kind: str
    uri: str


def source_of(source_type: str, source_json: str) -> SourceRef | str:
    """The source of an MLflow dataset, or why it cannot be one (the reason, as text)."""
    try:
        data = json.loads(source_json) if source_json else {}
    except ValueError:
        return f"its {source_type!r} source is not JSON"
    location = next(
        (
            data[k]
            for k in LOCATION_KEYS
            if isinstance(data, dict) and isinstance(data.get(k), str) and data[k]
        ),
        None,
    )
    if location is None:
        return f"its source (type {source_type!r}) names no data location"
    if not _is_line(location, 2048):
        return f"its source location {location[:80]!r} is not one line of at most 2048 characters"
    kind = source_kind(source_type)
    scheme, sep, rest = location.partition("://")
    prefix, path = (
        (scheme.lower(), rest)
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme)
        else (kind, location)
    )
    return SourceRef(provgraph_name(f"{prefix}/{path.lstrip('/')}"), kind, location)


def row_count(profile: str | None) -> int | None:
    """`num_rows` of an MLflow dataset profile, when it has one."""
    try:
        rows = json.loads(profile).get("num_rows") if profile else None
    except (ValueError, AttributeError):
        return None
    return rows if isinstance(rows, int) and rows >= 0 else None


def schema_text(schema: str | None) -> str | None:
    """MLflow's schema JSON, when provgraph can keep it (valid JSON, at most 64 KiB of text)."""
    if not schema or len(schema) > 65536 or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", schema):
        return None
    try:
        json.loads(schema)
    except ValueError:
        return None
    return schema


def params_of(params: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The parameters provgraph can keep, and what was left out (why, as text)."""
    kept: dict[str, str] = {}
    problems: list[str] = []
    for key in sorted(params):
        value = params[key]
        if len(value) > MAX_VALUE or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value):
            problems.append(
                f"param {key!r} left out: its value is not text of at most {MAX_VALUE} characters"
            )
        elif len(kept) == MAX_ENTRIES:
            problems.append(f"param {key!r} left out: provgraph keeps at most {MAX_ENTRIES} params per run")
        else:
            kept[metric_key(key)] = value
    return kept, problems


def metrics_of(metrics: Mapping[str, float]) -> tuple[dict[str, float], list[str]]:
    """The latest metric values provgraph can keep, and what was left out (why, as text)."""
    kept: dict[str, float] = {}
    problems: list[str] = []
    for key in sorted(metrics):
        value = float(metrics[key])
        if not math.isfinite(value):
            problems.append(f"metric {key!r} left out: {value} is not a finite number")
        elif len(kept) == MAX_ENTRIES:
            problems.append(f"metric {key!r} left out: provgraph keeps at most {MAX_ENTRIES} metrics per run")
        else:
            kept[metric_key(key)] = value
    return kept, problems


def code_of(tags: Mapping[str, str]) -> dict[str, str]:
    """The run's code from MLflow's system tags: git commit, entry point and repository URL."""
    code = {
        "commit": tags.get("mlflow.source.git.commit"),
        "entrypoint": tags.get("mlflow.source.name"),
        "repo": tags.get("mlflow.source.git.repoURL") or tags.get("mlflow.gitRepoURL"),
    }
    return {k: v for k, v in code.items() if v and _is_line(v, 1024)}


def tags_of(*tags: str) -> list[str]:
    """Only the tags provgraph accepts (a long model id would not fit)."""
    return [t for t in tags if TAG_PATTERN.fullmatch(t)]


def logged_model_id(source: str | None) -> str | None:
    """The MLflow 3 logged model a registered version was made from (`models:/m-…`), if any."""
    match = re.fullmatch(r"models:/(m-[0-9a-f]+)", source or "")
    return match.group(1) if match else None
