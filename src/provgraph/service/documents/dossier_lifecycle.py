"""The dossier's lifecycle sections: where the version served and how much (Annex IV §3, Art. 12), how
it moved through the registry with the audit chain's verdict (Annex IV §6), and the excluded sources it
came from with everything their exclusion affects."""

from __future__ import annotations

from provgraph.domain.registry import EventKind, RegistryEvent
from provgraph.service.documents.dossier_model import Block, Facts, Need, Note, Section, Table, lines, when
from provgraph.service.documents.gather import Exclusion, ModelVersionProvenance


def serving(p: ModelVersionProvenance) -> Section:
    rows = []
    for s in p.deployments:
        d = s.deployment
        # An end after the date described had not happened yet on that date.
        ended = d.ended_at is not None and d.ended_at <= p.as_of
        reasons = [f"start: {d.reason}"] if d.reason else []
        if ended and d.end_reason:
            reasons.append(f"end: {d.end_reason}")
        rows.append(
            (
                d.id,
                d.endpoint_id,
                when(d.started_at),
                when(d.ended_at) if ended else f"still serving on {when(p.as_of)}",
                f"{d.traffic_share:.0%}",
                lines(reasons),
                f"{s.inferences:,}",
            )
        )
    total = sum(s.inferences for s in p.deployments)
    table = Table(
        "Deployments (intervals during which an endpoint served this version)",
        ("Deployment", "Endpoint", "From", "Until", "Traffic", "Reasons", "Inferences"),
        tuple(rows),
        f"This version was not deployed as of {when(p.as_of)}.",
        short=(4, 6),
    )
    note = Note(
        f"{total:,} inferences were logged against this version's deployments up to {when(p.as_of)}, as "
        f"recorded by {when(p.known_at)}.",
    )
    return Section(
        "serving",
        "Deployments and inference volume",
        ("Annex IV §3", "Art. 12"),
        (table, note),
    )


def _change(e: RegistryEvent) -> str:
    if e.kind is EventKind.REGISTERED:
        return "registered"
    if e.kind is EventKind.STAGE_CHANGED:
        before = e.from_stage.value if e.from_stage else "?"
        return f"stage {before} → {e.to_stage.value if e.to_stage else '?'}"
    moved = (
        f" (moved from {e.previous_version_id})"
        if e.previous_version_id and e.previous_version_id != e.version_id
        else ""
    )
    verb = "set" if e.kind is EventKind.ALIAS_SET else "removed"
    return f"alias {e.alias} {verb}{moved}"


def history(p: ModelVersionProvenance, need: Need) -> Section:
    events = sorted(p.history, key=lambda e: (e.at, e.seq))
    table = Table(
        f"Registry events of {p.model_version.id} up to the date",
        ("#", "Effective", "Change", "Actor", "Reason", "Recorded"),
        tuple((str(e.seq), when(e.at), _change(e), e.actor, e.reason, when(e.recorded_at)) for e in events),
        "No registry event is recorded for this version up to the date.",
        short=(0,),
    )
    changes = [e for e in events if e.kind is not EventKind.REGISTERED]
    need(
        "Annex IV §6",
        "reasons for registry changes",
        [f"#{e.seq} {_change(e)}" for e in changes if not e.reason],
        len(changes),
    )
    audit = p.audit
    verdict = (
        f"The hash chain of model {p.model.name}'s {audit.events} registry events verifies: no event was "
        "altered, removed or inserted."
        if audit.valid
        else f"The hash chain of model {p.model.name}'s registry events is BROKEN."
    )
    facts = Facts(
        (
            ("Result", "verifies" if audit.valid else "BROKEN"),
            ("Events checked", str(audit.events)),
            (
                "Seals",
                "checked with the service's audit key"
                if audit.sealed
                else "not checked: no audit key is configured on the server",
            ),
            ("Problems", lines(f"{b.chain} #{b.seq}: {b.problem}" for b in audit.breaks) or "none"),
        ),
        "Audit-chain verification (of the chain as stored when this document was generated)",
    )
    return Section(
        "history",
        "Changes through the lifecycle: registry history",
        ("Annex IV §6", "Art. 12"),
        (table, facts, Note(verdict, "info" if audit.valid else "warning")),
    )


def exclusions(p: ModelVersionProvenance) -> Section:
    if not p.exclusions:
        return Section(
            "exclusions",
            "Excluded sources and their impact",
            ("Art. 10(2)",),
            (Note(f"No source this version came from was excluded as of {when(p.as_of)}."),),
        )
    blocks: list[Block] = []
    for x in p.exclusions:
        s, impact = x.source, x.impact
        blocks.append(
            Note(f"{s.id} was excluded on {when(s.excluded_at)}; this version came from it.", "warning")
        )
        blocks.append(
            Facts(
                (
                    ("Source", s.id),
                    ("Excluded (effective)", when(s.excluded_at)),
                    ("Reason", s.exclusion_reason),
                    ("Exclusion recorded", when(s.exclusion_recorded_at)),
                    ("First used", when(impact.first_used_at)),
                    ("Dataset versions affected", lines(impact.dataset_version_ids) or "none"),
                    ("Slices affected", lines(impact.slice_ids) or "none"),
                    ("Runs affected", lines(impact.run_ids) or "none"),
                    ("Inferences served by affected versions", f"{impact.inferences:,}"),
                    ("Complete", "no: cut by the service's node limit" if impact.is_partial else "yes"),
                ),
                f"Impact of excluding {s.name}",
            )
        )
        blocks.append(
            Table(
                f"Model versions affected by excluding {s.name}",
                ("Model version", "Inferences up to the date"),
                tuple(
                    (
                        mv + (" (this version)" if mv == p.model_version.id else ""),
                        f"{impact.inference_counts.get(mv, 0):,}",
                    )
                    for mv in impact.model_version_ids
                ),
                "No model version is affected.",
            )
        )
        blocks.extend(_decisions(x, p))
    return Section("exclusions", "Excluded sources and their impact", ("Art. 10(2)",), tuple(blocks))


def _decisions(x: Exclusion, p: ModelVersionProvenance) -> list[Block]:
    """What was decided about each affected version on the exclusion's case, by the document's date."""
    case = x.case
    if case is None:
        return [Note(f"No exclusion case is recorded for {x.source.id} (excluded before cases were kept).")]
    blocks: list[Block] = [
        Table(
            f"Decisions on {case.id} (impact snapshot sha256:{case.snapshot_digest[:16]}…)",
            ("Model version", "Decision", "Justification", "By", "When"),
            tuple(
                (d.model_version_id, d.decision.value, d.reason, d.actor, when(d.at))
                for d in sorted(case.decisions, key=lambda d: d.model_version_id)
            ),
            f"No decision was recorded by {when(p.as_of)}.",
        )
    ]
    if p.model_version.id in case.undecided:
        blocks.append(
            Note(f"Nothing was decided about this version on {case.id} by {when(p.as_of)}.", "warning")
        )
    return blocks
