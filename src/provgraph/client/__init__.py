"""The provgraph SDK: sync and async clients for every registration and provenance question, and an
inference logger for serving paths. It talks HTTP only.

    from provgraph.client import Client

    with Client("http://127.0.0.1:8000/graphql", token="...") as pg:
        pg.register_source("acme-reviews", "vendor", license="CC-BY-4.0")
"""

from provgraph.client._client import AsyncClient, Client
from provgraph.client._enums import Direction, InputRole, RegistryEventKind, RunKind, RunStatus, Stage
from provgraph.client._errors import (
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    ProvgraphClientError,
    UnauthenticatedError,
    UnavailableError,
)
from provgraph.client._logger import InferenceLogger, LoggerStats
from provgraph.client._operations import inference_input

__all__ = [
    "AsyncClient",
    "Client",
    "ConflictError",
    "Direction",
    "FailedPreconditionError",
    "InferenceLogger",
    "InputRole",
    "InvalidArgumentError",
    "LimitExceededError",
    "LoggerStats",
    "NotFoundError",
    "PermissionDeniedError",
    "ProvgraphClientError",
    "RegistryEventKind",
    "RunKind",
    "RunStatus",
    "Stage",
    "UnauthenticatedError",
    "UnavailableError",
    "inference_input",
]
