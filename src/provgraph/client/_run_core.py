"""A run context's state and the requests it needs, without I/O: `_run` has the sync and async contexts
that send them (`Client.run(...)`, `AsyncClient.run(...)`), `_capture` what is captured.

The rules (the README's "Recording a run" says the same):

- The run is registered (status RUNNING) at the first call that needs it to exist in provgraph —
  `run.start()` or `run.register_model_version(...)` — or else when the block ends. Params are part of that
  registration and immutable afterwards: log them before it. Logging a new or changed param later raises
  `RunStateError`; logging one again with the same value is harmless.
- Metrics are sent when the block ends, with the completion: FINISHED, or FAILED when the block raises
  (the exception is then re-raised, with a note added if provgraph could not record the failure).
- A failed run records why: its `error` is the exception's type (module-qualified unless built in) and
  message, `ValueError: loss is NaN`, sent with the FAILED completion.
- Explicit values (`code=`, `environment=`, `started_at=`, `framework=`…) override captured ones field by
  field; an explicit None leaves a field unrecorded.
- The key is `<name>-<UTC start, to the second>-<6 random hex digits>` unless `key=` is given. With a
  given key a re-run is idempotent: the run already recorded under it is looked up first, its start time
  kept, and if it has ended the same end is reported again (a no-op); facts that differ are a
  `ConflictError` naming the field, as for any registration.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from provgraph.client import _operations as ops
from provgraph.client import _queries as queries
from provgraph.client._call import Call, now
from provgraph.client._capture import Captured, capture, imported_frameworks
from provgraph.client._enums import RunKind, RunStatus, wire
from provgraph.client._errors import InvalidArgumentError, RunStateError
from provgraph.client._models import ModelVersion, Run

# The service's rules, checked here too so that a bad param or metric fails where it is logged, not at
# the end of a long training run (service/validate.py: key_values, measurements; domain/ids.py: names).
_KEY = re.compile(r"[A-Za-z0-9_.\-/]{1,128}")
_RUN_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/+]{0,127}")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_ENTRIES = 500
MAX_VALUE_LENGTH = 4096
MAX_ERROR_LENGTH = 4096


def default_key(name: str, started_at: datetime) -> str:
    """`<name>-<UTC time, to the second>-<6 random hex digits>`: readable, sortable, unique."""
    return f"{name}-{started_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def error_text(error: BaseException) -> str:
    """What a failed run records as its `error`: `<type>: <message>`, the type module-qualified unless
    built in, made fit for the API's text (no control characters but line breaks and tabs, 4,096 at most)."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    try:
        message = str(error)
    except Exception:  # an error whose __str__ fails must not hide it
        message = ""
    text = f"{name}: {message}" if message else name
    return _NOT_TEXT.sub("\ufffd", text)[:MAX_ERROR_LENGTH]


def failure(exc: BaseException | None) -> BaseException | None:
    """The error a run failed with: none for a normal end, or for `sys.exit(0)` inside the block."""
    if exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
        return None
    return exc


class RunCore:
    """A run's state and the requests it needs, without I/O (the sync and async contexts send them)."""

    def __init__(
        self,
        name: str,
        *,
        kind: RunKind | str,
        key: str | None,
        experiment: str | None,
        inputs: Sequence[ops.RunInputRef],
        params: Mapping[str, object] | None,
        code: Mapping[str, object] | None,
        environment: Mapping[str, object] | None,
        started_at: datetime | None,
        capture: bool,
    ) -> None:
        if key is None and not (_RUN_KEY.fullmatch(name) and len(name) <= 104):
            raise InvalidArgumentError(
                f"a run name must be 1-104 letters, digits and . _ - / +, starting with a letter or digit, "
                f"so that the generated key is a valid one; got {name!r}",
                code="INVALID_ARGUMENT",
                field="name",
            )
        if key is not None and not _RUN_KEY.fullmatch(key):
            raise InvalidArgumentError(
                f"key must be 1-128 letters, digits and . _ - / +, starting with a letter or digit; got {key!r}",
                code="INVALID_ARGUMENT",
                field="key",
            )
        self.name = name
        self.kind = wire(kind)
        self.key = key if key is not None else default_key(name, started_at or now())
        self.explicit_key = key is not None
        self.experiment = experiment
        self.inputs = tuple(inputs)
        self.code_override = dict(code or {})
        self.environment_override = dict(environment or {})
        self.started_at = started_at
        self.explicit_start = started_at is not None
        self.capture_enabled = capture
        self.captured = Captured()
        self.params: dict[str, str] = {}
        self.metrics: dict[str, float] = {}
        self.framework: str | None = None
        self.record: Run | None = None
        self.model_versions: list[ModelVersion] = []
        self.state = "new"  # → open (captured) → registered → ended
        self.resumed_end = False
        self.add_params(params or {})

    def begin(self) -> None:
        """Capture code and environment and note the start, once."""
        if self.state != "new":
            return
        if self.capture_enabled:
            self.captured = capture()
        if self.started_at is None:
            self.started_at = now()
        self.state = "open"

    def add_params(self, values: Mapping[str, object]) -> None:
        new: dict[str, str] = {}
        for key, value in values.items():
            _check_key(key, "params")
            text = str(value)
            if len(text) > MAX_VALUE_LENGTH or _NOT_TEXT.search(text):
                raise InvalidArgumentError(
                    f"param {key!r} must be text of at most {MAX_VALUE_LENGTH} characters without control "
                    "characters",
                    code="INVALID_ARGUMENT",
                    field="params",
                )
            if self.state in ("registered", "ended") and self.params.get(key) != text:
                raise RunStateError(
                    f"run {self.key} is already registered with its params, which cannot change; log param "
                    f"{key!r} before run.start() or run.register_model_version(...), or pass params= to "
                    "client.run(...)",
                    field="params",
                )
            new[key] = text
        if len(self.params.keys() | new.keys()) > MAX_ENTRIES:
            raise InvalidArgumentError(
                f"a run has at most {MAX_ENTRIES} params", code="INVALID_ARGUMENT", field="params"
            )
        self.params.update(new)

    def add_metrics(self, values: Mapping[str, float]) -> None:
        if self.state == "ended":
            raise RunStateError(f"run {self.key} has ended; its metrics were recorded then", field="metrics")
        new: dict[str, float] = {}
        for key, value in values.items():
            _check_key(key, "metrics")
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = float("nan")
            if number != number or number in (float("inf"), float("-inf")):
                raise InvalidArgumentError(
                    f"metric {key!r} must be a finite number; got {value!r}",
                    code="INVALID_ARGUMENT",
                    field="metrics",
                )
            new[key] = number
        if len(self.metrics.keys() | new.keys()) > MAX_ENTRIES:
            raise InvalidArgumentError(
                f"a run has at most {MAX_ENTRIES} metrics", code="INVALID_ARGUMENT", field="metrics"
            )
        self.metrics.update(new)

    def lookup(self) -> Call[Run] | None:
        """With a given key, the run may be recorded already (a re-run): ask for it before registering."""
        return queries.get_run(self.key) if self.explicit_key else None

    def adopt(self, existing: Run) -> None:
        """Continue the run recorded under the given key: its start stands, and an end it has is reported again."""
        if not self.explicit_start:
            self.started_at = existing.started_at
        self.resumed_end = existing.status != RunStatus.RUNNING

    def registration(self) -> Call[Run]:
        frameworks = imported_frameworks() if self.capture_enabled else {}
        self.captured = replace(self.captured, frameworks=frameworks)
        environment = self._environment(frameworks)
        self.framework = str(environment["framework"]) if environment.get("framework") else None
        return ops.register_run(
            self.key,
            self.kind,
            experiment=self.experiment,
            inputs=self.inputs,
            params=self.params,
            code=_recorded({**self.captured.code, **self.code_override}),
            environment=_recorded(environment),
            started_at=self.started_at,
        )

    def _environment(self, frameworks: Mapping[str, str | None]) -> dict[str, object]:
        environment = dict(self.captured.environment)
        override = self.environment_override
        if frameworks:
            first = next(iter(frameworks))
            environment.update(framework=first, framework_version=frameworks[first])
        if "framework" in override and "framework_version" not in override:
            environment["framework_version"] = frameworks.get(str(override["framework"]))
        environment.update(override)
        return environment

    def registered(self, run: Run) -> None:
        self.record = run
        self.state = "registered"

    def completion(self, error: BaseException | None) -> Call[Run]:
        return ops.complete_run(
            self.key,
            RunStatus.FAILED if error is not None else RunStatus.FINISHED,
            # A re-run of an ended run reports the end without a time: the same end again is a no-op.
            ended_at=None if self.resumed_end else now(),
            metrics=self.metrics,
            error=error_text(error) if error is not None else None,
        )

    def ended(self, run: Run) -> None:
        self.record = run
        self.state = "ended"


def _check_key(key: object, field: str) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidArgumentError(
            f"{field} key {key!r} must be 1-128 of letters, digits, _ . - /",
            code="INVALID_ARGUMENT",
            field=field,
        )


def _recorded(values: Mapping[str, object]) -> dict[str, object] | None:
    kept = {k: v for k, v in values.items() if v is not None}
    return kept or None
