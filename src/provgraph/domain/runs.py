"""Runs (training, evaluation, preprocessing, fine-tuning) and the experiments that group them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from provgraph.domain.records import Recorded


class RunKind(Enum):
    TRAIN = "TRAIN"
    EVAL = "EVAL"
    PREPROCESS = "PREPROCESS"
    FINETUNE = "FINETUNE"


class RunStatus(Enum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class InputRole(Enum):
    """What a run used a dataset version or slice for."""

    TRAIN = "TRAIN"
    VALIDATION = "VALIDATION"
    TEST = "TEST"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Code:
    repo: str | None = None
    commit: str | None = None
    entrypoint: str | None = None
    dirty: bool | None = None  # the working tree had uncommitted changes (so `commit` is not the whole code)


@dataclass(frozen=True)
class Environment:
    image_digest: str | None = None
    python: str | None = None
    framework: str | None = None
    framework_version: str | None = None
    packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunInput:
    id: str  # a dataset version or slice id
    role: InputRole


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    description: str | None = None


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    description: str | None
    recorded: Recorded


@dataclass(frozen=True)
class RunSpec:
    """A run as the client reports it. `key` is the client's own id for the run (a pipeline run id, a
    UUID), which makes registration idempotent."""

    key: str
    kind: RunKind
    experiment: str | None = None
    status: RunStatus = RunStatus.RUNNING
    started_at: datetime | None = None
    ended_at: datetime | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    code: Code = field(default_factory=Code)
    environment: Environment = field(default_factory=Environment)
    inputs: tuple[RunInput, ...] = ()
    parent: str | None = None  # the run id of the run this one is part of (an orchestrator's DAG run)
    error: str | None = None  # why a run registered as FAILED failed


@dataclass(frozen=True)
class RunCompletion:
    """The end of a run: reported once; reporting the same end again is harmless."""

    run_id: str
    status: RunStatus
    ended_at: datetime | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # why it failed (FAILED only): the exception, the task's message


@dataclass(frozen=True)
class Run:
    id: str
    key: str
    kind: RunKind
    experiment_id: str | None
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None
    params: dict[str, str]
    metrics: dict[str, float]
    code: Code
    environment: Environment
    inputs: tuple[RunInput, ...]
    output_ids: tuple[str, ...]
    recorded: Recorded
    parent: str | None = None
    completed_at: datetime | None = None  # when completeRun was recorded (transaction time)
    completion_metrics: tuple[str, ...] = ()  # the metrics that completion reported
    error: str | None = None  # why it failed, when the run was reported FAILED with a reason

    def as_known(self, known_at: datetime) -> Run:
        """The run as the service knew it at `known_at`: a completion recorded later had not happened."""
        if self.completed_at is None or self.completed_at <= known_at:
            return self
        metrics = {k: v for k, v in self.metrics.items() if k not in self.completion_metrics}
        return replace(
            self,
            status=RunStatus.RUNNING,
            ended_at=None,
            metrics=metrics,
            completed_at=None,
            completion_metrics=(),
            error=None,
        )
