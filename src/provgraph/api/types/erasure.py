"""GraphQL: opening an erasure case. The case is an `ExclusionCase` (`trigger: ERASURE_REQUEST`): it is
listed, decided and receipted like a source's exclusion (api/types/exclusions.py)."""

from __future__ import annotations

import strawberry

from provgraph.api.context import Info
from provgraph.api.types.exclusions import CaseType
from provgraph.domain.erasure import MAX_KEY_HASHES


@strawberry.type
class OpenErasureCasePayload:
    case: CaseType
    created: bool = strawberry.field(description="False when the same request was already recorded.")


@strawberry.type
class ErasureMutation:
    @strawberry.mutation(
        description="Open a case for an erasure request: the records named by `keyHashes` (each the record "
        "key's HMAC-SHA256 under the client's secret, first 16 bytes, in hex — never the key; at most "
        f"{MAX_KEY_HASHES}, in any order, repeats ignored), with a snapshot of the recordProvenance answer "
        "for each and the model versions that learned from them, each to be decided with decideExclusion. "
        "The same hashes and reason again record nothing (`created: false`); another reason is a CONFLICT."
    )
    async def open_erasure_case(
        self, info: Info, key_hashes: list[str], reason: str
    ) -> OpenErasureCasePayload:
        opened = await info.context.services.erasure.open_case(key_hashes, reason, info.context.caller)
        return OpenErasureCasePayload(case=CaseType.of(opened.case), created=opened.created)
