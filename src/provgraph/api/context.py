"""The typed request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from provgraph.api.loaders import Loaders
from provgraph.domain.auth import Principal
from provgraph.domain.errors import ProvgraphError
from provgraph.domain.records import Caller
from provgraph.service.services import Services


@dataclass
class Context:
    request: Request | WebSocket | None
    response: Response | None
    services: Services
    loaders: Loaders
    principal: Principal | None
    request_id: str
    auth_failure: ProvgraphError | None = None  # the token could not be checked (database unreachable)
    pinned_now: datetime | None = (
        None  # the first attempt's time, for a request retried under its idempotency key
    )

    @property
    def caller(self) -> Caller:
        """Who provenance records as having written (the token's name), at the request's time."""
        return Caller(self.principal.name if self.principal else "anonymous", self.pinned_now)


Info = StrawberryInfo[Context, None]
