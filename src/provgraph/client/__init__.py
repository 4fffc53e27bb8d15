"""The provgraph SDK: sync and async clients for every registration and provenance question, a run context
that records a training run with its code and environment, and an inference logger for serving paths. It
talks HTTP only.

    from provgraph.client import Client

    with Client("http://127.0.0.1:8000/graphql", token="...") as pg:
        pg.register_source("acme-reviews", "vendor", license="CC-BY-4.0")
        with pg.run("train-sentiment", kind="train") as run:
            run.log_params(lr=3e-5)
"""

from provgraph.client._client import AsyncClient, Client
from provgraph.client._enums import (
    Certainty,
    Direction,
    ExclusionDecisionKind,
    InputRole,
    MembershipBasis,
    RegistryEventKind,
    RunKind,
    RunStatus,
    Stage,
)
from provgraph.client._errors import (
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    ProvgraphClientError,
    RunStateError,
    UnauthenticatedError,
    UnavailableError,
)
from provgraph.client._export import ExportedDocument
from provgraph.client._logger import InferenceLogger, LoggerStats
from provgraph.client._membership import RecordKeyRegistration, RecordProvenance, key_hash
from provgraph.client._operations import inference_input
from provgraph.client._run import AsyncRunContext, RunContext

__all__ = [
    "AsyncClient",
    "AsyncRunContext",
    "Certainty",
    "Client",
    "ConflictError",
    "Direction",
    "ExclusionDecisionKind",
    "ExportedDocument",
    "FailedPreconditionError",
    "InferenceLogger",
    "InputRole",
    "InvalidArgumentError",
    "LimitExceededError",
    "LoggerStats",
    "MembershipBasis",
    "NotFoundError",
    "PermissionDeniedError",
    "ProvgraphClientError",
    "RecordKeyRegistration",
    "RecordProvenance",
    "RegistryEventKind",
    "RunContext",
    "RunKind",
    "RunStateError",
    "RunStatus",
    "Stage",
    "UnauthenticatedError",
    "UnavailableError",
    "inference_input",
    "key_hash",
]
