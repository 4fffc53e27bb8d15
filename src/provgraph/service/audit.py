"""Verifying the registry's hash chains: has any recorded event been altered, removed or inserted?"""

from __future__ import annotations

from dataclasses import dataclass

from provgraph.domain.ids import Kind, make_id
from provgraph.domain.registry import event_hash
from provgraph.service import validate as v
from provgraph.store.audit import AuditStore


@dataclass(frozen=True)
class ChainBreak:
    model_id: str
    seq: int
    event_id: str | None
    problem: str


@dataclass(frozen=True)
class AuditReport:
    valid: bool
    models: int
    events: int
    breaks: list[ChainBreak]


class AuditService:
    def __init__(self, store: AuditStore) -> None:
        self.store = store

    async def verify(self, model: str | None) -> AuditReport:
        """Recompute every event's hash from its content and its predecessor's hash; report each model's
        first break (a later break in the same chain is a consequence of the first)."""
        model_id = make_id(Kind.MODEL, v.name(model, "model")) if model else None
        breaks: list[ChainBreak] = []
        total = 0
        chains = await self.store.chains(model_id)
        for chain_model, head_seq, head_hash, events in chains:
            total += len(events)
            previous_hash: str | None = None
            problem: ChainBreak | None = None
            for expected_seq, event in enumerate(events, start=1):
                if event.seq != expected_seq:
                    problem = ChainBreak(
                        chain_model,
                        expected_seq,
                        event.id,
                        f"event {expected_seq} is missing (found {event.seq} next)",
                    )
                elif event.prev_hash != previous_hash:
                    problem = ChainBreak(
                        chain_model, event.seq, event.id, "prevHash does not match the event before"
                    )
                elif event.hash != event_hash(event):
                    problem = ChainBreak(
                        chain_model, event.seq, event.id, "content does not match its hash (altered)"
                    )
                if problem:
                    break
                previous_hash = event.hash
            if problem is None and (head_seq != len(events) or head_hash != previous_hash):
                problem = ChainBreak(
                    chain_model,
                    len(events) + 1,
                    None,
                    f"the model records {head_seq} events but {len(events)} are stored (events were removed)",
                )
            if problem:
                breaks.append(problem)
        return AuditReport(valid=not breaks, models=len(chains), events=total, breaks=breaks)
