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
from provgraph.domain.records import Caller
from provgraph.service.idempotency import IdempotentRequest
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
    idempotent: IdempotentRequest | None = None  # the request's Idempotency-Key, if it sent one
    is_mutation: bool = False  # set once the document is parsed and authorised
    wrote: bool = False  # set when a mutation recorded something (not a pure repeat)

    @property
    def caller(self) -> Caller:
        """Who provenance records as having written (the token's name), at the request's time: under an
        idempotency key, the time of the key's first successful request."""
        name = self.principal.name if self.principal else "anonymous"
        if self.idempotent is None:
            return Caller(name)
        return Caller(name, self.idempotent.pinned_now, retry=self.idempotent.remembered)


Info = StrawberryInfo[Context, None]
