"""Settings, read from the environment once at startup.

| variable | default | meaning |
|---|---|---|
| `NEO4J_URI` | the local server started by `provgraph neo4j start` | `bolt://`, `neo4j://` (routing, clusters, Aura), `+s` for TLS |
| `NEO4J_USER` | `neo4j` | |
| `NEO4J_PASSWORD` | the local server's generated password | |
| `NEO4J_DATABASE` | `neo4j` | |
| `PROVGRAPH_HOST` / `PROVGRAPH_PORT` | `127.0.0.1` / `8000` | where the API listens |
| `PROVGRAPH_ENV` | `production` | `development` turns on GraphiQL, introspection and field suggestions |
| `PROVGRAPH_DB_TIMEOUT` | `10` | seconds one database call may take, retries included |
| `PROVGRAPH_CONNECT_TIMEOUT` | `1` | seconds to open a Bolt connection |
| `PROVGRAPH_MAX_LINEAGE_DEPTH` | `25` | the deepest a provenance traversal may go |
| `PROVGRAPH_MAX_QUERY_COST` | `20000` | the most one request may cost (api/cost.py) |
| `PROVGRAPH_HEADER_TIMEOUT` / `PROVGRAPH_BODY_TIMEOUT` | `10` / `30` | seconds a client may take to send a request's headers / body |
| `PROVGRAPH_AUDIT_KEY` | local: a random key in the state directory | the secret that seals the audit chains and checkpoints (16+ characters; the same on every replica) |
| `PROVGRAPH_WARM_PLANS` | `1` | `0` skips warming Neo4j's plan cache before `/readyz` says ready (store/warmup.py) |
| `PROVGRAPH_WORKERS` | `1` | API processes on one port (uvicorn workers), each with its own Neo4j driver |
| `PROVGRAPH_HTTP` / `PROVGRAPH_LOOP` | `auto` / `auto` | the HTTP parser (`httptools` when installed, else `h11`) and event loop (`uvloop` when installed, else `asyncio`); for measuring, see bench/ |
| `PROVGRAPH_COLD_URI` | `file://<state dir>/cold` | the cold tier's Iceberg warehouse: a directory, or `s3://bucket/prefix` on any S3-compatible store |
| `PROVGRAPH_COLD_CATALOG` | SQLite beside a local warehouse, else in the state directory | the Iceberg catalog, a SQLAlchemy URL (share one between replicas: PostgreSQL, …) |
| `PROVGRAPH_COLD_S3_ENDPOINT` / `PROVGRAPH_COLD_S3_REGION` | AWS | an S3-compatible endpoint (MinIO, Ceph, R2, …); credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` |
| `PROVGRAPH_HOT_DAYS` | `30` | days an inference stays a graph node before compaction moves it to the cold tier |
| `PROVGRAPH_COLD_DAYS` | unset: keep | days a cold inference is kept; never less than 183 (six months, EU AI Act Art. 19/26) |
| `PROVGRAPH_COMPACT_EVERY` | `3600` | seconds between the server's compaction runs; `0` turns them off (run `provgraph compact` instead) |
| `PROVGRAPH_INFERENCE_SINK` | `graph` | `columnar`: `POST /v1/inferences` appends to the landing log and seals into the cold tier (the high-volume path) instead of creating graph nodes |
| `PROVGRAPH_LANDING_DIR` | `<state dir>/landing` | the columnar path's landing log (local disk; acknowledged inferences wait here for their seal) |
| `PROVGRAPH_SEAL_EVERY` | `10` | seconds between seals: the longest a columnar-path inference waits before queries see it |
| `PROVGRAPH_RECORDS_DIR` | `<state dir>/records` | record-key filters and exact sets (`POST /v1/record-keys`); shared storage when replicas register keys |
| `PROVGRAPH_LOG_FORMAT` | `text` | `json`: one JSON object per log line (access lines carry request id, operation, principal, status, duration, code) |
| `PROVGRAPH_ACCESS_LOG` | `1` | `0` turns off the line per request |
| `PROVGRAPH_METRICS_ALLOW` | `127.0.0.1,::1` | addresses or networks (CIDR, comma-separated) that may read `/metrics` without a token; empty: a token is always needed |
| `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | unset: no tracing | where OpenTelemetry traces go (OTLP over HTTP); `OTEL_SERVICE_NAME` names the service (`provgraph`) |
| `PROVGRAPH_STATE_DIR` | `.provgraph` | where the local Neo4j keeps its jars, data, logs and password |
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.retention import ColdLocation, RetentionPolicy

Environment = Literal["development", "production"]


class ConfigError(Exception):
    """The environment does not describe a usable configuration."""


def state_dir_from(env: Mapping[str, str]) -> Path:
    return Path(env.get("PROVGRAPH_STATE_DIR", ".provgraph")).resolve()


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for (see the README's Security section)."""

    max_depth: int = 12  # GraphQL selection depth
    max_tokens: int = 4000
    max_aliases: int = 30
    max_page_size: int = 500
    max_batch_size: int = 10000
    max_body_bytes: int = 8 * 1024 * 1024
    max_response_bytes: int = 16 * 1024 * 1024
    max_keys_body_bytes: int = 512 * 1024 * 1024  # POST /v1/record-keys (16 bytes per key)
    max_query_cost: int = 20_000  # see api/cost.py
    body_timeout: float = 30.0  # seconds a request body may take to arrive
    header_timeout: float = 10.0  # seconds a connection may take to send its request headers


@dataclass(frozen=True)
class Settings:
    neo4j_uri: str
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    host: str = "127.0.0.1"
    port: int = 8000
    environment: Environment = "production"
    db_timeout: float = 10.0
    connect_timeout: float = 1.0
    max_lineage_depth: int = 25
    limits: Limits = field(default_factory=Limits)
    audit_key: bytes | None = None  # seals chained facts and checkpoints; None: facts are chained, not sealed
    warm_plans: bool = True  # plan every statement before /readyz says ready (store/warmup.py)
    workers: int = 1
    http_parser: Literal["auto", "h11", "httptools"] = "auto"
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    cold: ColdLocation = field(default_factory=lambda: ColdLocation.local(str(state_dir_from({}) / "cold")))
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    compact_every: float = 3600.0  # seconds between the server's compactions; 0: off
    inference_sink: Literal["graph", "columnar"] = "graph"  # where POST /v1/inferences writes
    landing_dir: Path = field(default_factory=lambda: state_dir_from({}) / "landing")
    seal_every: float = 10.0  # seconds between seals of the columnar path's landing log
    records_dir: Path = field(default_factory=lambda: state_dir_from({}) / "records")
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")  # may read /metrics without a token
    otlp_endpoint: str | None = None  # traces are exported over OTLP when set
    service_name: str = "provgraph"

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings; with NEO4J_URI unset, use the local server `provgraph neo4j start` runs."""
        env = os.environ if env is None else env
        uri = env.get("NEO4J_URI")
        audit_key = _audit_key(env, local=not uri)
        password = env.get("NEO4J_PASSWORD")
        user = env.get("NEO4J_USER", "neo4j")
        if not uri:
            local = local_connection(state_dir_from(env) / "neo4j")
            if local is None:
                raise ConfigError(
                    "NEO4J_URI is not set and no local Neo4j has been started here: "
                    "run `provgraph neo4j start` (or `make run`), or set NEO4J_URI"
                )
            uri, user, password = local["uri"], local["user"], local["password"]
        environment = env.get("PROVGRAPH_ENV", "production")
        if environment not in ("development", "production"):
            raise ConfigError(f"PROVGRAPH_ENV must be 'development' or 'production', not {environment!r}")
        return cls(
            neo4j_uri=uri,
            neo4j_user=user,
            neo4j_password=password,
            neo4j_database=env.get("NEO4J_DATABASE", "neo4j"),
            host=env.get("PROVGRAPH_HOST", "127.0.0.1"),
            port=_int(env, "PROVGRAPH_PORT", 8000),
            environment="development" if environment == "development" else "production",
            db_timeout=_float(env, "PROVGRAPH_DB_TIMEOUT", 10.0),
            connect_timeout=_float(env, "PROVGRAPH_CONNECT_TIMEOUT", 1.0),
            max_lineage_depth=_int(env, "PROVGRAPH_MAX_LINEAGE_DEPTH", 25),
            audit_key=audit_key,
            warm_plans=_switch(env, "PROVGRAPH_WARM_PLANS", True),
            workers=_workers(env),
            http_parser=_choice(env, "PROVGRAPH_HTTP", ("auto", "h11", "httptools")),  # type: ignore[arg-type]
            event_loop=_choice(env, "PROVGRAPH_LOOP", ("auto", "asyncio", "uvloop")),  # type: ignore[arg-type]
            cold=cold_location(env),
            retention=_retention(env),
            compact_every=_float(env, "PROVGRAPH_COMPACT_EVERY", 3600.0),
            inference_sink=_choice(env, "PROVGRAPH_INFERENCE_SINK", ("graph", "columnar")),  # type: ignore[arg-type]
            landing_dir=Path(env.get("PROVGRAPH_LANDING_DIR") or state_dir_from(env) / "landing"),
            seal_every=_positive(env, "PROVGRAPH_SEAL_EVERY", 10.0),
            records_dir=Path(env.get("PROVGRAPH_RECORDS_DIR") or state_dir_from(env) / "records"),
            log_format=_choice(env, "PROVGRAPH_LOG_FORMAT", ("text", "json")),  # type: ignore[arg-type]
            access_log=_switch(env, "PROVGRAPH_ACCESS_LOG", True),
            metrics_allow=_networks(env, "PROVGRAPH_METRICS_ALLOW", ("127.0.0.1", "::1")),
            otlp_endpoint=_otlp_endpoint(env),
            service_name=env.get("OTEL_SERVICE_NAME") or "provgraph",
            limits=Limits(
                max_query_cost=_int(env, "PROVGRAPH_MAX_QUERY_COST", Limits.max_query_cost),
                header_timeout=_float(env, "PROVGRAPH_HEADER_TIMEOUT", Limits.header_timeout),
                body_timeout=_float(env, "PROVGRAPH_BODY_TIMEOUT", Limits.body_timeout),
            ),
        )


MIN_AUDIT_KEY_LENGTH = 16


def _networks(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(
                f"{name} must list IP addresses or networks (CIDR), comma-separated; {network!r} is neither"
            ) from None
    return networks


def _otlp_endpoint(env: Mapping[str, str]) -> str | None:
    if _switch(env, "OTEL_SDK_DISABLED", False):
        return None
    return env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None


def cold_location(env: Mapping[str, str]) -> ColdLocation:
    """The cold tier's warehouse, catalog and object-store settings."""
    state = state_dir_from(env)
    warehouse = env.get("PROVGRAPH_COLD_URI") or f"file://{state / 'cold'}"
    if not warehouse.startswith(("file://", "s3://", "s3a://")):
        raise ConfigError(f"PROVGRAPH_COLD_URI must be a file:// or s3:// URI, not {warehouse!r}")
    local = warehouse.startswith("file://")
    default_catalog = (
        f"sqlite:///{warehouse.removeprefix('file://')}/catalog.db"
        if local
        else (f"sqlite:///{state / 'cold-catalog.db'}")
    )
    properties = {
        key: value
        for key, value in {
            "s3.endpoint": env.get("PROVGRAPH_COLD_S3_ENDPOINT"),
            "s3.region": env.get("PROVGRAPH_COLD_S3_REGION"),
            "s3.access-key-id": env.get("AWS_ACCESS_KEY_ID"),
            "s3.secret-access-key": env.get("AWS_SECRET_ACCESS_KEY"),
        }.items()
        if value and not local
    }
    return ColdLocation(warehouse, env.get("PROVGRAPH_COLD_CATALOG") or default_catalog, properties)


def _retention(env: Mapping[str, str]) -> RetentionPolicy:
    cold_days = env.get("PROVGRAPH_COLD_DAYS")
    try:
        return RetentionPolicy(
            hot_days=_int(env, "PROVGRAPH_HOT_DAYS", 30),
            cold_days=None if not cold_days else _int(env, "PROVGRAPH_COLD_DAYS", 0),
        )
    except InvalidArgument as exc:
        raise ConfigError(f"retention: {exc.message}") from None


def _workers(env: Mapping[str, str]) -> int:
    workers = _int(env, "PROVGRAPH_WORKERS", 1)
    if not 1 <= workers <= 64:
        raise ConfigError(f"PROVGRAPH_WORKERS must be between 1 and 64, not {workers}")
    return workers


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or choices[0]
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "on", "yes"):
        return True
    if value.lower() in ("0", "false", "off", "no"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {value!r}")


def _audit_key(env: Mapping[str, str], *, local: bool) -> bytes | None:
    """`PROVGRAPH_AUDIT_KEY`; for the local server, a random key kept in the state directory (mode 600)."""
    configured = env.get("PROVGRAPH_AUDIT_KEY")
    if configured is not None:
        if len(configured) < MIN_AUDIT_KEY_LENGTH:
            raise ConfigError(f"PROVGRAPH_AUDIT_KEY must be at least {MIN_AUDIT_KEY_LENGTH} characters")
        return configured.encode()
    if not local:
        return None
    path = state_dir_from(env) / "audit.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def local_connection(instance_dir: Path) -> dict[str, str] | None:
    """The connection file the local launcher writes, if a local server was ever started."""
    path = instance_dir / "connection.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return {"uri": str(data["uri"]), "user": str(data["user"]), "password": str(data["password"])}


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{key} must be an integer, not {raw!r}") from None


def _positive(env: Mapping[str, str], key: str, default: float) -> float:
    value = _float(env, key, default)
    if not value > 0:  # also refuses NaN
        raise ConfigError(f"{key} must be a positive number of seconds, not {env.get(key)!r}")
    return value


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number, not {raw!r}") from None
