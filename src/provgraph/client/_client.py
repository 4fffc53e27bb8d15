"""Sync and async clients over httpx. Both send the same operations (`_operations`, `_queries`), retrying
with backoff when the service is unavailable: every write the SDK sends is keyed, so a retry never
duplicates."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import random
import time
import typing
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from provgraph.client import _membership as membership
from provgraph.client import _operations as ops
from provgraph.client import _queries as queries
from provgraph.client._call import Call
from provgraph.client._enums import Direction, RunKind
from provgraph.client._errors import LimitExceededError, ProvgraphClientError, UnavailableError, error_for
from provgraph.client._export import ExportedDocument, export_params, export_url, read_export
from provgraph.client._membership import RecordKeyRegistration, keys_upload, read_registration
from provgraph.client._run import AsyncRunContext, RunContext
from provgraph.client._run_core import RunCore

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
RETRYABLE_STATUS = frozenset({502, 503, 504})


def default_url() -> str:
    return os.environ.get("PROVGRAPH_URL", DEFAULT_URL)


def default_token() -> str | None:
    return os.environ.get("PROVGRAPH_TOKEN")


def headers_for(token: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json", "user-agent": "provgraph-sdk"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def interpret(response: httpx.Response) -> dict[str, Any]:
    """The `data` of a GraphQL response, or the typed error it carries."""
    request_id = response.headers.get("x-request-id")
    if response.status_code == 413:
        raise LimitExceededError("the request body is larger than the server accepts", code="LIMIT_EXCEEDED")
    try:
        body = response.json()
    except ValueError:
        if response.status_code in RETRYABLE_STATUS or response.status_code >= 500:
            raise UnavailableError(
                f"HTTP {response.status_code} from {response.url}", code="UNAVAILABLE"
            ) from None
        raise ProvgraphClientError(
            f"HTTP {response.status_code}: not a GraphQL response", request_id=request_id
        ) from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        first = errors[0]
        extensions = first.get("extensions") or {}
        raise error_for(
            extensions.get("code", "INTERNAL"),
            first.get("message", "error"),
            extensions.get("field"),
            extensions.get("requestId", request_id),
        )
    if response.status_code >= 500:
        raise UnavailableError(f"HTTP {response.status_code} from {response.url}", code="UNAVAILABLE")
    data: dict[str, Any] = body["data"]
    return data


def _key_for(call: Call[Any]) -> str | None:
    """Every write the SDK sends carries a fresh idempotency key, the same on each of its retries: a retry
    after a lost reply is then the same request to the service, even when it left a time to the server."""
    return uuid.uuid4().hex if call.document.lstrip().startswith("mutation") else None


def _with_key(headers: dict[str, str], key: str | None) -> dict[str, str]:
    return headers if key is None else {**headers, "idempotency-key": key}


def _delay(attempt: int, backoff: float) -> float:
    return float(backoff * (2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter, not security


def _as_method(method: Callable[..., Any], op: Callable[..., Call[Any]]) -> None:
    """Make `help()` and `inspect.signature` show the method as called — `(self, /, <op's parameters>)` —
    returning what the operation's Call reads (`Source`, not `Call[Source]`); the docstring is the op's."""
    hints = typing.get_type_hints(op)
    (result,) = typing.get_args(hints.pop("return"))
    signature = inspect.signature(op)
    parameters = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
        *(p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()),
    ]
    method.__signature__ = signature.replace(parameters=parameters, return_annotation=result)  # type: ignore[attr-defined]
    method.__annotations__ = {**hints, "return": result}


def _sync(op: Callable[P, Call[T]]) -> Callable[Concatenate[Client, P], T]:
    @functools.wraps(op)
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(op(*args, **kwargs))

    _as_method(method, op)
    return method


def _async(op: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]]:
    @functools.wraps(op)
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(op(*args, **kwargs))

    _as_method(method, op)
    return method


class Client:
    """A synchronous provgraph client.

    Parameters:
        url: the GraphQL endpoint (default `PROVGRAPH_URL` or http://127.0.0.1:8000/graphql).
        token: a bearer token (default `PROVGRAPH_TOKEN`).
        timeout: seconds per HTTP request.
        retries: extra attempts when the service is unavailable (5xx, timeouts, refused connections).
        backoff: the first retry's delay in seconds; it doubles each time, with jitter.
        http_client: an httpx.Client to use instead of a new one (tests, proxies, custom TLS).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.25,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.url = url or default_url()
        self.retries = retries
        self.backoff = backoff
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self._headers = headers_for(token or default_token())

    def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Send any GraphQL document; returns its `data` or raises the typed error. Retries (on 5xx,
        timeouts, refused connections) carry the same `idempotency_key`, if one is given."""
        payload = {"query": document, "variables": variables or {}}
        headers = _with_key(self._headers, idempotency_key)
        for attempt in range(self.retries + 1):
            try:
                return interpret(self._http.post(self.url, json=payload, headers=headers))
            except (httpx.TransportError, UnavailableError) as exc:
                if attempt == self.retries:
                    if isinstance(exc, UnavailableError):
                        raise
                    raise UnavailableError(f"cannot reach {self.url}: {exc}", code="UNAVAILABLE") from exc
                time.sleep(_delay(attempt, self.backoff))
        raise AssertionError("unreachable")

    def send(self, call: Call[T]) -> T:
        """Send one prepared operation and read its answer (every method below is one `send`)."""
        return call.read(self.execute(call.document, call.variables, idempotency_key=_key_for(call)))

    def close(self) -> None:
        """Close the HTTP connections (unless `http_client` was given: its owner closes it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run(
        self,
        name: str,
        *,
        kind: RunKind | str = RunKind.TRAIN,
        key: str | None = None,
        experiment: str | None = None,
        inputs: Sequence[ops.RunInputRef] = (),
        params: Mapping[str, object] | None = None,
        code: Mapping[str, object] | None = None,
        environment: Mapping[str, object] | None = None,
        started_at: datetime | None = None,
        capture: bool = True,
    ) -> RunContext:
        """Record a run as a context manager, capturing its code and environment:

            with pg.run("train-intent", kind="train", inputs=[version.id]) as run:
                run.log_params(lr=3e-5)
                run.log_metrics(val_f1=0.91)
                run.register_model_version("intent", "s3://models/intent/7")

        The run is registered (RUNNING) by `run.start()`, `run.register_model_version(...)` or the end of
        the block, whichever comes first; params must be logged before. The end of the block completes it
        FINISHED with the logged metrics, or FAILED if it raised (the error is re-raised).

        Parameters:
            name: what the run does; the start of its generated key `<name>-<UTC start>-<random>`.
            kind: TRAIN, EVAL, PREPROCESS or FINETUNE (any case).
            key: your key instead of a generated one; re-running under it is idempotent.
            experiment: the experiment it belongs to (created on first mention).
            inputs: dataset version or slice ids, or (id, role) pairs (role TRAIN by default).
            params: params known up front (more can be logged until the run is registered).
            code, environment: facts that override the captured ones field by field (a None value
                leaves one unrecorded); keys as in `register_run`.
            started_at: the start, instead of the time the block is entered.
            capture: False records no git, package or framework facts of this process.
        """
        return RunContext(
            self,
            RunCore(
                name, kind=kind, key=key, experiment=experiment, inputs=inputs, params=params, code=code,
                environment=environment, started_at=started_at, capture=capture,
            ),
        )  # fmt: skip

    def export(
        self,
        kind: str,
        id: str,
        *,
        format: str | None = None,
        answer: str | None = None,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        direction: Direction | str | None = None,
        depth: int | None = None,
    ) -> ExportedDocument:
        """A document for auditors, as the service makes it (`GET /v1/export/{kind}/{id}`):

            doc = pg.export("spdx", "modelVersion:intent:1")
            Path(doc.filename).write_bytes(doc.content)

        Parameters:
            kind: `prov` (W3C PROV of an answer), `spdx` or `cyclonedx` (an AI-BOM of a model version), or
                `dossier` (its technical documentation).
            id: the subject: a model version (any kind), or for PROV also an inference (its trace), a
                source (its impact) or any node (its lineage, with `answer="lineage"`).
            format: the kind's serialisation (PROV: json, provn, turtle, jsonld; dossier: html, pdf);
                default the kind's first.
            answer: PROV only: provenance, lineage, trace or impact (default by the subject's kind).
            as_of, known_at: the time the document describes, and the transaction time it is drawn as of.
            direction, depth: a lineage answer's direction (default UPSTREAM) and depth.
        """
        url = export_url(self.url, kind, id)
        params = export_params(
            format=format, answer=answer, as_of=as_of, known_at=known_at, direction=direction, depth=depth
        )
        headers = {k: v for k, v in self._headers.items() if k != "content-type"}
        return self._repeating(url, lambda: read_export(self._http.get(url, params=params, headers=headers)))

    def register_record_keys(
        self,
        subject_id: str,
        source_id: str,
        keys: Iterable[str | bytes],
        *,
        secret: bytes | str,
        false_positive_rate: float = membership.DEFAULT_FALSE_POSITIVE_RATE,
    ) -> RecordKeyRegistration:
        """Register the keys of the records a dataset version or slice holds from a source
        (`POST /v1/record-keys`). Only keyed hashes are sent, never the keys:

            secret = os.environb[b"PROVGRAPH_RECORD_SECRET"]  # the same for every registration
            pg.register_record_keys(version.id, "crm", (row["user_id"] for row in rows), secret=secret)

        Parameters:
            subject_id: the dataset version or slice (`datasetVersion:…`, `slice:…`).
            source_id: the source the records came from (by name or id).
            keys: each record's key (str as UTF-8, or bytes), e.g. a user id; repeats are harmless.
            secret: at least 16 bytes that stay with you: `key_hash(key, secret=…)` of each key is what the
                service stores and answers for. Keep it, and use the same one for every registration you
                want to ask about together.
            false_positive_rate: the Bloom filter's target rate (registrations over 100,000 keys answer
                from the filter only: POSSIBLY, at about this rate).

        Repeating a registration with the same keys answers `created=False` and records nothing; other
        keys for the same data and source are a `ConflictError` (register new data as a new version).
        """
        upload = keys_upload(self.url, subject_id, source_id, keys, secret, false_positive_rate)
        headers, timeout = upload.headers(self._headers), upload.timeout(self._http.timeout)

        def attempt() -> RecordKeyRegistration:
            response = self._http.post(
                upload.url, params=upload.params, content=upload.pieces(), headers=headers, timeout=timeout
            )
            return read_registration(response)

        return self._repeating(upload.url, attempt)  # an identical registration is recorded once

    def _repeating(self, url: str, attempt: Callable[[], T]) -> T:
        """A REST call that is safe to repeat, repeated while the service is unavailable."""
        for n in range(self.retries + 1):
            try:
                return attempt()
            except (httpx.TransportError, UnavailableError) as exc:
                if n == self.retries:
                    if isinstance(exc, UnavailableError):
                        raise
                    raise UnavailableError(f"cannot reach {url}: {exc}", code="UNAVAILABLE") from exc
                time.sleep(_delay(n, self.backoff))
        raise AssertionError("unreachable")

    register_source = _sync(ops.register_source)
    register_dataset = _sync(ops.register_dataset)
    register_dataset_version = _sync(ops.register_dataset_version)
    register_slice = _sync(ops.register_slice)
    register_experiment = _sync(ops.register_experiment)
    register_run = _sync(ops.register_run)
    complete_run = _sync(ops.complete_run)
    register_model = _sync(ops.register_model)
    register_model_version = _sync(ops.register_model_version)
    transition_stage = _sync(ops.transition_stage)
    set_alias = _sync(ops.set_alias)
    remove_alias = _sync(ops.remove_alias)
    register_endpoint = _sync(ops.register_endpoint)
    deploy = _sync(ops.deploy)
    end_deployment = _sync(ops.end_deployment)
    log_inference = _sync(ops.log_inference)
    log_inferences = _sync(ops.log_inferences)
    exclude_source = _sync(ops.exclude_source)
    open_erasure_case = _sync(ops.open_erasure_case)
    decide_exclusion = _sync(ops.decide_exclusion)
    exclusion_case = _sync(queries.exclusion_case)
    exclusion_cases = _sync(queries.exclusion_cases)
    exclusion_receipt = _sync(queries.exclusion_receipt)
    models_using_source = _sync(queries.models_using_source)
    trace_inference = _sync(queries.trace_inference)
    lineage = _sync(queries.lineage)
    impact_report = _sync(queries.impact_report)
    deployed_at = _sync(queries.deployed_at)
    consumers = _sync(queries.consumers)
    get_run = _sync(queries.get_run)
    model_version = _sync(queries.model_version)
    history = _sync(queries.history)
    model_history = _sync(queries.model_history)
    verify_audit = _sync(queries.verify_audit)
    compare = _sync(queries.compare)
    record_provenance = _sync(membership.record_provenance)
    declare_key_preserving_transform = _sync(membership.declare_key_preserving_transform)


class AsyncClient:
    """The asynchronous twin of `Client`, with the same parameters and methods (awaitable)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.25,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url or default_url()
        self.retries = retries
        self.backoff = backoff
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._headers = headers_for(token or default_token())

    async def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Send any GraphQL document; returns its `data` or raises the typed error (see `Client.execute`)."""
        payload = {"query": document, "variables": variables or {}}
        headers = _with_key(self._headers, idempotency_key)
        for attempt in range(self.retries + 1):
            try:
                return interpret(await self._http.post(self.url, json=payload, headers=headers))
            except (httpx.TransportError, UnavailableError) as exc:
                if attempt == self.retries:
                    if isinstance(exc, UnavailableError):
                        raise
                    raise UnavailableError(f"cannot reach {self.url}: {exc}", code="UNAVAILABLE") from exc
                await asyncio.sleep(_delay(attempt, self.backoff))
        raise AssertionError("unreachable")

    async def send(self, call: Call[T]) -> T:
        """Send one prepared operation and read its answer (every method below is one `send`)."""
        return call.read(await self.execute(call.document, call.variables, idempotency_key=_key_for(call)))

    async def aclose(self) -> None:
        """Close the HTTP connections (unless `http_client` was given: its owner closes it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def run(
        self,
        name: str,
        *,
        kind: RunKind | str = RunKind.TRAIN,
        key: str | None = None,
        experiment: str | None = None,
        inputs: Sequence[ops.RunInputRef] = (),
        params: Mapping[str, object] | None = None,
        code: Mapping[str, object] | None = None,
        environment: Mapping[str, object] | None = None,
        started_at: datetime | None = None,
        capture: bool = True,
    ) -> AsyncRunContext:
        """Record a run with `async with pg.run(...) as run:`; the same parameters and rules as
        `Client.run`, with `await run.start()` and `await run.register_model_version(...)`."""
        return AsyncRunContext(
            self,
            RunCore(
                name, kind=kind, key=key, experiment=experiment, inputs=inputs, params=params, code=code,
                environment=environment, started_at=started_at, capture=capture,
            ),
        )  # fmt: skip

    async def export(
        self,
        kind: str,
        id: str,
        *,
        format: str | None = None,
        answer: str | None = None,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        direction: Direction | str | None = None,
        depth: int | None = None,
    ) -> ExportedDocument:
        """A document for auditors (see `Client.export`)."""
        url = export_url(self.url, kind, id)
        params = export_params(
            format=format, answer=answer, as_of=as_of, known_at=known_at, direction=direction, depth=depth
        )
        headers = {k: v for k, v in self._headers.items() if k != "content-type"}

        async def attempt() -> ExportedDocument:
            return read_export(await self._http.get(url, params=params, headers=headers))

        return await self._repeating(url, attempt)

    async def register_record_keys(
        self,
        subject_id: str,
        source_id: str,
        keys: Iterable[str | bytes],
        *,
        secret: bytes | str,
        false_positive_rate: float = membership.DEFAULT_FALSE_POSITIVE_RATE,
    ) -> RecordKeyRegistration:
        """Register record keys as keyed hashes (see `Client.register_record_keys`); the hashing runs in a
        worker thread, so `keys` is read there."""
        upload = await asyncio.to_thread(
            keys_upload, self.url, subject_id, source_id, keys, secret, false_positive_rate
        )
        headers, timeout = upload.headers(self._headers), upload.timeout(self._http.timeout)

        async def attempt() -> RecordKeyRegistration:
            response = await self._http.post(
                upload.url, params=upload.params, content=upload.apieces(), headers=headers, timeout=timeout
            )
            return read_registration(response)

        return await self._repeating(upload.url, attempt)

    async def _repeating(self, url: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """A REST call that is safe to repeat, repeated while the service is unavailable."""
        for n in range(self.retries + 1):
            try:
                return await attempt()
            except (httpx.TransportError, UnavailableError) as exc:
                if n == self.retries:
                    if isinstance(exc, UnavailableError):
                        raise
                    raise UnavailableError(f"cannot reach {url}: {exc}", code="UNAVAILABLE") from exc
                await asyncio.sleep(_delay(n, self.backoff))
        raise AssertionError("unreachable")

    register_source = _async(ops.register_source)
    register_dataset = _async(ops.register_dataset)
    register_dataset_version = _async(ops.register_dataset_version)
    register_slice = _async(ops.register_slice)
    register_experiment = _async(ops.register_experiment)
    register_run = _async(ops.register_run)
    complete_run = _async(ops.complete_run)
    register_model = _async(ops.register_model)
    register_model_version = _async(ops.register_model_version)
    transition_stage = _async(ops.transition_stage)
    set_alias = _async(ops.set_alias)
    remove_alias = _async(ops.remove_alias)
    register_endpoint = _async(ops.register_endpoint)
    deploy = _async(ops.deploy)
    end_deployment = _async(ops.end_deployment)
    log_inference = _async(ops.log_inference)
    log_inferences = _async(ops.log_inferences)
    exclude_source = _async(ops.exclude_source)
    open_erasure_case = _async(ops.open_erasure_case)
    decide_exclusion = _async(ops.decide_exclusion)
    exclusion_case = _async(queries.exclusion_case)
    exclusion_cases = _async(queries.exclusion_cases)
    exclusion_receipt = _async(queries.exclusion_receipt)
    models_using_source = _async(queries.models_using_source)
    trace_inference = _async(queries.trace_inference)
    lineage = _async(queries.lineage)
    impact_report = _async(queries.impact_report)
    deployed_at = _async(queries.deployed_at)
    consumers = _async(queries.consumers)
    get_run = _async(queries.get_run)
    model_version = _async(queries.model_version)
    history = _async(queries.history)
    model_history = _async(queries.model_history)
    verify_audit = _async(queries.verify_audit)
    compare = _async(queries.compare)
    record_provenance = _async(membership.record_provenance)
    declare_key_preserving_transform = _async(membership.declare_key_preserving_transform)
