"""`Client.run(...)` and `AsyncClient.run(...)`: run contexts that record a run the way MLflow users expect
(the rules are in `_run_core`'s docstring and the README's "Recording a run")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from provgraph.client._capture import Captured
from provgraph.client._errors import NotFoundError, ProvgraphClientError
from provgraph.client._models import ModelVersion, Run
from provgraph.client._run_core import RunCore, failure

if TYPE_CHECKING:
    from provgraph.client._client import AsyncClient, Client


def _merged(values: Mapping[str, object] | None, more: Mapping[str, object]) -> dict[str, object]:
    return {**(values or {}), **more}


class _RunBase:
    """What the sync and async run contexts share: the run's identity and the logging calls (no I/O)."""

    def __init__(self, core: RunCore) -> None:
        self._core = core

    @property
    def key(self) -> str:
        """The run's key (`run:<key>` is its id)."""
        return self._core.key

    @property
    def id(self) -> str:
        """The run's id in provgraph."""
        return f"run:{self._core.key}"

    @property
    def params(self) -> dict[str, str]:
        """The params logged so far, as recorded (values as text)."""
        return dict(self._core.params)

    @property
    def metrics(self) -> dict[str, float]:
        """The metrics logged so far; they are sent when the run ends."""
        return dict(self._core.metrics)

    @property
    def captured(self) -> Captured:
        """The code and environment captured at the start (frameworks: at registration)."""
        return self._core.captured

    @property
    def record(self) -> Run | None:
        """The run as provgraph last answered (None until it is registered)."""
        return self._core.record

    @property
    def model_versions(self) -> list[ModelVersion]:
        """The model versions registered in this run."""
        return list(self._core.model_versions)

    def log_param(self, key: str, value: object) -> None:
        """Log one param (see `log_params`)."""
        self._core.add_params({key: value})

    def log_params(self, values: Mapping[str, object] | None = None, /, **params: object) -> None:
        """Log params, as a mapping or keywords; values are recorded as text. Params are part of the run's
        registration: after it (`start()`, `register_model_version`), a new or changed one raises
        `RunStateError`."""
        self._core.add_params(_merged(values, params))

    def log_metric(self, key: str, value: float) -> None:
        """Log one metric (see `log_metrics`)."""
        self._core.add_metrics({key: value})

    def log_metrics(self, values: Mapping[str, float] | None = None, /, **metrics: float) -> None:
        """Log metrics, as a mapping or keywords; the last value of each is sent when the run ends."""
        self._core.add_metrics({**(values or {}), **metrics})


class RunContext(_RunBase):
    """A run being recorded by a `Client`; use it as a context manager (see `Client.run`)."""

    def __init__(self, client: Client, core: RunCore) -> None:
        super().__init__(core)
        self._client = client

    def __enter__(self) -> RunContext:
        self._core.begin()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._core.state == "ended":
            return
        error = failure(exc)
        try:
            self._register()
            self._core.ended(self._client.send(self._core.completion(error)))
        except ProvgraphClientError as problem:
            if exc is None:
                raise
            exc.add_note(f"provgraph could not record run {self.key} as FAILED: {problem}")

    def start(self) -> Run:
        """Register the run now (status RUNNING), so that it shows while it runs; returns it as recorded.
        Params logged after this raise `RunStateError`."""
        return self._register()

    def _register(self) -> Run:
        core = self._core
        core.begin()
        if core.state in ("registered", "ended"):
            assert core.record is not None
            return core.record
        if (lookup := core.lookup()) is not None:
            with contextlib.suppress(NotFoundError):  # not recorded yet: a first run under this key
                core.adopt(self._client.send(lookup))
        core.registered(self._client.send(core.registration()))
        assert core.record is not None
        return core.record

    def register_model_version(
        self,
        model: str,
        artifact_uri: str,
        *,
        framework: str | None = None,
        metrics: Mapping[str, float] | None = None,
        fine_tuned_from: str | None = None,
        size_bytes: int | None = None,
        tags: Sequence[str] = (),
        description: str | None = None,
        created_at: datetime | None = None,
    ) -> ModelVersion:
        """Register a version of `model` (registering the model if needed) trained by this run, which is
        registered first if it is not yet. The version carries the run's framework and the metrics
        logged so far unless `framework=` or `metrics=` say otherwise."""
        self._register()
        self._client.register_model(model)
        version = self._client.register_model_version(
            model,
            artifact_uri,
            trained_by=self.key,
            framework=framework or self._core.framework,
            metrics=dict(self._core.metrics) if metrics is None else metrics,
            fine_tuned_from=fine_tuned_from,
            size_bytes=size_bytes,
            tags=tags,
            description=description,
            created_at=created_at,
        )
        self._core.model_versions.append(version)
        return version


class AsyncRunContext(_RunBase):
    """A run being recorded by an `AsyncClient`; use it with `async with` (see `AsyncClient.run`)."""

    def __init__(self, client: AsyncClient, core: RunCore) -> None:
        super().__init__(core)
        self._client = client

    async def __aenter__(self) -> AsyncRunContext:
        await asyncio.to_thread(self._core.begin)  # git and the package scan are blocking calls
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._core.state == "ended":
            return
        error = failure(exc)
        try:
            await self._register()
            self._core.ended(await self._client.send(self._core.completion(error)))
        except ProvgraphClientError as problem:
            if exc is None:
                raise
            exc.add_note(f"provgraph could not record run {self.key} as FAILED: {problem}")

    async def start(self) -> Run:
        """Register the run now (status RUNNING), so that it shows while it runs; returns it as recorded.
        Params logged after this raise `RunStateError`."""
        return await self._register()

    async def _register(self) -> Run:
        core = self._core
        if core.state == "new":
            await asyncio.to_thread(core.begin)
        if core.state in ("registered", "ended"):
            assert core.record is not None
            return core.record
        if (lookup := core.lookup()) is not None:
            with contextlib.suppress(NotFoundError):  # not recorded yet: a first run under this key
                core.adopt(await self._client.send(lookup))
        core.registered(await self._client.send(core.registration()))
        assert core.record is not None
        return core.record

    async def register_model_version(
        self,
        model: str,
        artifact_uri: str,
        *,
        framework: str | None = None,
        metrics: Mapping[str, float] | None = None,
        fine_tuned_from: str | None = None,
        size_bytes: int | None = None,
        tags: Sequence[str] = (),
        description: str | None = None,
        created_at: datetime | None = None,
    ) -> ModelVersion:
        """Register a version of `model` (registering the model if needed) trained by this run, which is
        registered first if it is not yet. The version carries the run's framework and the metrics
        logged so far unless `framework=` or `metrics=` say otherwise."""
        await self._register()
        await self._client.register_model(model)
        version = await self._client.register_model_version(
            model,
            artifact_uri,
            trained_by=self.key,
            framework=framework or self._core.framework,
            metrics=dict(self._core.metrics) if metrics is None else metrics,
            fine_tuned_from=fine_tuned_from,
            size_bytes=size_bytes,
            tags=tags,
            description=description,
            created_at=created_at,
        )
        self._core.model_versions.append(version)
        return version
