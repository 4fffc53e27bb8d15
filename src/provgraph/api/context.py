"""The typed request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from provgraph.api.loaders import Loaders
from provgraph.service.services import Services


@dataclass
class Context:
    request: Request | WebSocket | None
    response: Response | None
    services: Services
    loaders: Loaders
    actor: str
    request_id: str


Info = StrawberryInfo[Context, None]
