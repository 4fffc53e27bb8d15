"""The dossier's content, apart from how it is written: a title page, sections under the headings they
answer (Annex IV, Articles 10 and 12 where the references support the heading), and the gaps.

A value of None is a fact the graph does not hold: every writer shows it as "not recorded", visibly,
and the gaps list says which of them the regulation's headings ask for. Nothing here is markup: every
string is text from the graph (user input) and is escaped by the writer, except `Picture.svg`, which
`dossier_picture` makes from Graphviz's output and is the one trusted fragment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

NOT_RECORDED = "not recorded"

Value = str | None  # None: not recorded


@dataclass(frozen=True)
class Facts:
    """Labelled values, one a line (a definition list)."""

    rows: tuple[tuple[str, Value], ...]
    title: str | None = None


@dataclass(frozen=True)
class Table:
    """Rows of values under column headings; `empty` is said instead when there are no rows."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    empty: str
    short: tuple[int, ...] = ()  # columns of short values (counts, shares) that should not wrap


@dataclass(frozen=True)
class Picture:
    caption: str
    svg: str  # an <svg> element made by dossier_picture; its text was escaped by Graphviz
    legend: str


@dataclass(frozen=True)
class Note:
    """A paragraph: `info` explains, `warning` flags a problem (a broken chain, an excluded source),
    `gap` says what the graph does not hold."""

    text: str
    tone: Literal["info", "warning", "gap"] = "info"


Block = Facts | Table | Picture | Note

# Says a heading asks for an item: (heading, item, the records lacking it, how many records there are —
# None when the graph has no place for the item at all).
Need = Callable[[str, str, list[str], int | None], None]


@dataclass(frozen=True)
class Section:
    key: str  # the anchor it is linked by
    title: str
    cites: tuple[str, ...]  # the headings it answers: "Annex IV §2(d)", "Art. 10(2)"
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Gap:
    """Something a heading asks for that the graph does not hold."""

    heading: str  # "Annex IV §2(d)", or a section's title
    item: str  # "labelling procedures"
    detail: str | None = None  # which records lack it, when only some do


@dataclass(frozen=True)
class Dossier:
    title: str
    subject_id: str
    as_of: datetime
    known_at: datetime
    stamp: str  # the line every printed page's footer carries: the subject and both times
    summary: Facts  # the title page's facts
    sections: tuple[Section, ...]
    gaps: tuple[Gap, ...]
    present: tuple[str, ...]  # the items asked for that the graph filled (completeness)

    @property
    def missing(self) -> tuple[str, ...]:
        """Each item some heading asks for and the graph lacks (wholly or for some records), once."""
        return tuple(dict.fromkeys(g.item for g in self.gaps))


def when(moment: datetime | None) -> str | None:
    """A time as the dossier writes it (UTC, to the second), or None (not recorded)."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def lines(values: Iterable[str]) -> str | None:
    """Values one a line, or None (not recorded) when there are none."""
    joined = "\n".join(values)
    return joined or None
