"""The receipt of an exclusion case as a document (kind `receipt`): the same signed JSON as the GraphQL
field `exclusionReceipt`, so an auditor can download it, keep it, and later check it with
`verifyExclusionReceipt`. It is issued now and says so (`issuedAt`): two downloads differ in that field and
their signature, never in the facts they cite."""

from __future__ import annotations

import json

from provgraph.domain.documents import ExportRequest, Rendered, Serialisation
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import CASE_KINDS
from provgraph.service.documents.gather import Gatherer
from provgraph.service.documents.service import Renderer


async def render(request: ExportRequest, gatherer: Gatherer) -> Rendered:
    if request.as_of is not None or request.known_at is not None:
        field = "asOf" if request.as_of is not None else "knownAt"
        raise InvalidArgument(
            "a receipt is issued now, over the case as the ledger holds it; for the case as of a time, "
            "export it as prov (answer exclusion)",
            field=field,
        )
    receipt = await gatherer.exclusions.receipt(request.subject_id)
    text = json.dumps(receipt, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return Rendered(text.encode("utf-8"))


RECEIPT = Renderer(
    formats={"json": Serialisation("application/json", "json")},
    render=render,
    subjects=CASE_KINDS,
)
