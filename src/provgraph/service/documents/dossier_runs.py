"""The dossier's runs: what trained the version (and its base, and prepared its data), with the code,
environment, parameters and metrics each recorded, and what each used and produced."""

from __future__ import annotations

from provgraph.domain.runs import Run, RunKind
from provgraph.service.documents.dossier_model import Block, Facts, Need, Note, lines, when
from provgraph.service.documents.gather import ModelVersionProvenance

_TRAINING = (RunKind.TRAIN, RunKind.FINETUNE)


def runs_of(p: ModelVersionProvenance) -> list[Run]:
    """The runs, the one that trained this version first, then the rest by id."""
    first = p.trained_by
    return ([first] if first else []) + [r for r in p.runs if first is None or r.id != first.id]


def run_blocks(p: ModelVersionProvenance, need: Need) -> tuple[Block, ...]:
    runs = runs_of(p)
    if not runs:
        need("Annex IV §2", "the run that trained this version", [], None)
        return (
            Note("No run is recorded upstream of this version: how it was trained is not recorded.", "gap"),
        )
    produced: dict[str, list[str]] = {}
    for e in p.upstream.edges:
        if e.type == "GENERATED_BY":
            produced.setdefault(e.to_id, []).append(e.from_id)
    n = len(runs)
    need("Annex IV §2", "training code commit", [r.id for r in runs if not r.code.commit], n)
    need("Annex IV §2", "training environment", [r.id for r in runs if not _has_environment(r)], n)
    training = [r for r in runs if r.kind in _TRAINING]
    need("Annex IV §2", "hyperparameters", [r.id for r in training if not r.params], len(training))
    need("Annex IV §2", "training metrics", [r.id for r in training if not r.metrics], len(training))
    blocks: list[Block] = []
    for run in runs:
        outputs = sorted(set(produced.get(run.id, [])) | set(run.output_ids))
        role = "trained this version" if p.trained_by and run.id == p.trained_by.id else None
        blocks.append(Facts(_facts(run, outputs), f"{run.id} — {role or run.kind.value.lower() + ' run'}"))
    return tuple(blocks)


def _has_environment(run: Run) -> bool:
    env = run.environment
    return any((env.image_digest, env.python, env.framework, env.packages))


def _facts(run: Run, outputs: list[str]) -> tuple[tuple[str, str | None], ...]:
    code, env = run.code, run.environment
    commit = code.commit
    if commit and code.dirty:
        commit += " (the working tree had uncommitted changes)"
    framework = " ".join(x for x in (env.framework, env.framework_version) if x) or None
    rows: list[tuple[str, str | None]] = [
        ("Kind and status", f"{run.kind.value}, {run.status.value}"),
        ("Experiment", run.experiment_id or "none"),
        ("Started", when(run.started_at)),
        ("Ended", when(run.ended_at) if run.ended_at else "no end recorded"),
        ("Code repository", code.repo),
        ("Code commit", commit),
        ("Entry point", code.entrypoint),
        ("Container image", env.image_digest),
        ("Python", env.python),
        ("Framework", framework),
        ("Packages", lines(env.packages)),
        ("Parameters", lines(f"{k} = {v}" for k, v in sorted(run.params.items()))),
        ("Metrics", lines(f"{k} = {v:g}" for k, v in sorted(run.metrics.items()))),
        ("Inputs (role)", lines(f"{i.id} ({i.role.value.lower()})" for i in run.inputs)),
        ("Outputs", lines(outputs)),
    ]
    if run.parent:
        rows.append(("Part of run", run.parent))
    if run.error:
        rows.append(("Failure", run.error))
    return tuple(rows)
