"""The dossier's lineage picture: the model version and everything it came from, as inline SVG.

Laid out by Graphviz (`dot -Tsvg`) from the DOT the service already draws (`pictures.dot`): a provenance
graph is a layered DAG, which is what dot is built for, and a home-made layout would have to solve edge
crossings and label sizes again, worse. The price is a system program at run time; without it the
dossier cannot be drawn, and the error says so (UNAVAILABLE, naming the package) rather than leaving
the picture out of a document an auditor relies on.

Graphviz escapes every label it writes into SVG (`<` becomes `&lt;`), and the output is checked for
anything active (scripts, links, external references) before it is inlined.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from provgraph.domain.errors import Unavailable
from provgraph.domain.lineage import PROVENANCE_EDGES, Edge
from provgraph.service.pictures import dot

DOT_TIMEOUT_S = 30
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)  # the XML declaration, DOCTYPE and leading comments
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# What an inlined picture must never hold: code, links, anything fetched from elsewhere.
_ACTIVE = re.compile(r"<script|<foreignObject|\bon[a-z]+\s*=|href\s*=|url\(|<image\b", re.IGNORECASE)


def picture_edges(subject_id: str, edges: tuple[Edge, ...]) -> tuple[list[str], list[Edge]]:
    """The nodes and edges the picture draws: the provenance edges (data, runs, sources, base models),
    without the containers (datasets, models, experiments) the lineage also reaches."""
    kept = [e for e in edges if e.type in PROVENANCE_EDGES]
    ids = dict.fromkeys([subject_id, *(i for e in kept for i in (e.from_id, e.to_id))])
    return list(ids), kept


def lineage_svg(subject_id: str, edges: tuple[Edge, ...], excluded: list[str]) -> str:
    """The SVG element (no XML prolog) of the subject's provenance, the subject emphasised and excluded
    sources marked."""
    ids, kept = picture_edges(subject_id, edges)
    return svg_of(dot(ids, kept, highlight=[subject_id], excluded=excluded))


def svg_of(dot_text: str) -> str:
    program = shutil.which("dot")
    if program is None:
        raise Unavailable(
            "this server cannot draw the dossier's lineage picture: Graphviz's dot is not installed "
            "(Debian: apt-get install graphviz)"
        )
    done = subprocess.run(
        [program, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=DOT_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        # DOT made by pictures.dot is always valid; a failure is the program's, not the caller's.
        raise RuntimeError(f"dot failed ({done.returncode}): {done.stderr.decode(errors='replace')[:500]}")
    svg = _COMMENT.sub("", _PROLOG.sub("", done.stdout.decode()))
    if _ACTIVE.search(svg):
        raise RuntimeError("Graphviz's SVG holds active content; refusing to inline it")
    return svg.strip()
