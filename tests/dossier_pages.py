"""Reading a dossier's HTML back as a reader would: its tables (by caption), its facts (by block title),
its sections, and every element and attribute it holds (to prove nothing active got in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Grid:
    caption: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def row(self, first: str) -> dict[str, str]:
        """The row whose first cell is `first` (or starts with it), by column name."""
        found = [r for r in self.rows if r[0] == first or r[0].startswith(first + " ")]
        assert len(found) == 1, (first, self.rows)
        return dict(zip(self.columns, found[0], strict=True))


class DossierPage(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.grids: dict[str, Grid] = {}
        self.facts: dict[str | None, dict[str, str]] = {}
        self.sections: dict[str, str] = {}
        self.text_parts: list[str] = []
        self.svg_texts: list[str] = []  # the picture's labels, as Graphviz wrote them
        self._svg_text: list[str] | None = None
        self._section: str | None = None
        self._h3: str | None = None
        self._in: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._table: dict[str, object] | None = None
        self._caption: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(text)
        self.close()

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        attr = dict(attrs)
        if tag == "section":
            self._section = attr.get("id")
            self.sections[self._section or ""] = ""
        elif tag == "h3":
            self._heading = []
        elif tag == "table":
            self._table = {"class": attr.get("class") or "", "rows": [], "head": [], "title": self._h3}
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "text":
            self._svg_text = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "text" and self._svg_text is not None:
            self.svg_texts.append("".join(self._svg_text))
            self._svg_text = None
        elif tag == "h3" and self._heading is not None:
            self._h3 = "".join(self._heading)
            self._heading = None
        elif tag == "caption" and self._caption is not None and self._table is not None:
            self._table["caption"] = "".join(self._caption)
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            rows = self._table["rows"]
            assert isinstance(rows, list)
            rows.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self._finish_table(self._table)
            self._table = None
        elif tag == "div":
            self._h3 = None

    def _finish_table(self, table: dict[str, object]) -> None:
        rows = table["rows"]
        assert isinstance(rows, list)
        if table["class"] == "facts":
            title = table["title"]
            assert title is None or isinstance(title, str)
            self.facts[title] = {r[0]: r[1] for r in rows}
        else:
            caption = str(table.get("caption", ""))
            grid = Grid(caption)
            if table["class"] == "grid":
                grid.columns, grid.rows = rows[0], rows[1:]
            else:
                grid.rows = rows  # an empty table: its one cell says why
            self.grids[caption] = grid

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        for part in (self._cell, self._caption, self._heading, self._svg_text):
            if part is not None:
                part.append(data)
        if self._section is not None:
            self.sections[self._section] += data
