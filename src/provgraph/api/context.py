"""The typed request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from provgraph.api.loaders import Loaders
from provgraph.domain.auth import Principal
from provgraph.domain.errors import ProvgraphError
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

    @property
    def actor(self) -> str:
        """Who provenance records as having written: the token's name."""
        return self.principal.name if self.principal else "anonymous"


Info = StrawberryInfo[Context, None]
