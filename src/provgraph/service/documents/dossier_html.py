"""The dossier as one self-contained HTML page: inline CSS (screen and print), the lineage as inline SVG,
no script, no font, image or stylesheet fetched from anywhere.

Every value from the graph is user input and goes through `_text` (HTML-escaped, quotes included); the
only markup not built here is the SVG, which Graphviz escaped. Printed (or turned into PDF), each section
starts a page, table rows do not split across pages, table headings repeat, and every page's footer
carries the subject, both times and "page N of M" — the footer text reaches the page margin through CSS
`string-set` from an element of the title page, so no graph value is ever written into CSS.
"""

from __future__ import annotations

from html import escape

from provgraph.service.documents.dossier_model import (
    NOT_RECORDED,
    Block,
    Dossier,
    Facts,
    Note,
    Picture,
    Section,
    Table,
    Value,
)

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4;
  color: #212529; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 20pt; margin: .2rem 0 .6rem; }
h2 { font-size: 14pt; border-bottom: 2px solid #0d6efd; padding-bottom: 2px; margin-top: 2rem; }
h3 { font-size: 11pt; margin: 1rem 0 .3rem; }
.kind { text-transform: uppercase; letter-spacing: .08em; color: #6c757d; font-size: 9pt; margin: 0; }
.stamp { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; color: #495057;
  string-set: stamp content(); }
.cites { color: #0a58ca; font-size: 9pt; margin: -.4rem 0 .6rem; }
.about { color: #495057; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; margin: .3rem 0 1rem; }
caption { caption-side: top; text-align: left; font-weight: bold; font-size: 9pt; padding: 3px 0; }
th, td { border: 1px solid #ced4da; padding: 3px 5px; vertical-align: top; text-align: left;
  overflow-wrap: break-word; }
/* Many-column tables may break ids and digests anywhere (a sha256 is wider than its column); facts
   tables break at words only, which also keeps WeasyPrint's width computation cheap. */
table.grid td { overflow-wrap: anywhere; }
thead th { background: #e9ecef; }
td.short { white-space: nowrap; }
table.facts th { width: 32%; background: #f8f9fa; font-weight: normal; color: #495057; }
.nr { white-space: nowrap; color: #842029; background: #f8d7da; font-style: italic; padding: 0 3px; border-radius: 2px; }
.note { padding: 6px 10px; margin: .5rem 0 1rem; border-left: 4px solid #0d6efd; background: #f1f6ff; }
.note.gap { border-left-color: #dc3545; background: #fdf1f2; }
.note.warning { border-left-color: #fd7e14; background: #fff3cd; font-weight: bold; }
figure { margin: .5rem 0 1rem; text-align: center; }
figure svg { max-width: 100%; max-height: 210mm; height: auto; }
figcaption { font-size: 8.5pt; color: #495057; text-align: left; }
nav ol { padding-left: 1.2rem; }
nav .cites { margin: 0; display: inline; }
.summary { margin-top: 1.5rem; }
footer { margin-top: 2rem; border-top: 1px solid #ced4da; color: #6c757d; font-size: 8pt; }

@page {
  size: A4; margin: 16mm 14mm 18mm;
  @bottom-left { content: string(stamp); font-family: "DejaVu Sans", sans-serif; font-size: 7pt;
    color: #6c757d; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font-family: "DejaVu Sans", sans-serif;
    font-size: 7pt; color: #6c757d; }
}
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  section { break-before: page; }
  h2, h3, caption { break-after: avoid; }
  tr, .note, figure, .facts-block { break-inside: avoid; }
  thead { display: table-header-group; }
  nav a { color: inherit; text-decoration: none; }
  nav a::after { content: leader(".") " " target-counter(attr(href), page); }
  footer { display: none; }
}
"""


def _text(value: str) -> str:
    """Escaped text; line breaks in a value become <br>."""
    return "<br>".join(escape(part, quote=True) for part in value.split("\n"))


def _value(value: Value) -> str:
    return f'<span class="nr">{NOT_RECORDED}</span>' if value is None else _text(value)


def _facts(block: Facts) -> str:
    rows = "".join(f"<tr><th>{_text(label)}</th><td>{_value(v)}</td></tr>" for label, v in block.rows)
    title = f"<h3>{_text(block.title)}</h3>" if block.title else ""
    return f'<div class="facts-block">{title}<table class="facts"><tbody>{rows}</tbody></table></div>'


def _table(block: Table) -> str:
    caption = f"<caption>{_text(block.caption)}</caption>"
    if not block.rows:
        return f"<table>{caption}<tbody><tr><td>{_text(block.empty)}</td></tr></tbody></table>"
    head = "".join(f"<th>{_text(c)}</th>" for c in block.columns)
    cells = [' class="short"' if i in block.short else "" for i in range(len(block.columns))]
    body = "".join(
        "<tr>" + "".join(f"<td{cells[i]}>{_value(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in block.rows
    )
    return f'<table class="grid">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _block(block: Block) -> str:
    if isinstance(block, Facts):
        return _facts(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Picture):
        # The one fragment not escaped here: Graphviz's SVG, checked by dossier_picture.
        return (
            f'<figure class="picture">{block.svg}<figcaption><strong>{_text(block.caption)}.</strong> '
            f"{_text(block.legend)}</figcaption></figure>"
        )
    return f'<p class="note {block.tone}">{_text(block.text)}</p>'


def _cites(cites: tuple[str, ...]) -> str:
    return f'<p class="cites">Answers {_text(", ".join(cites))}</p>' if cites else ""


def _section(number: int, section: Section) -> str:
    body = "".join(_block(b) for b in section.blocks)
    return (
        f'<section id="{section.key}"><h2>{number}. {_text(section.title)}</h2>'
        f"{_cites(section.cites)}{body}</section>"
    )


def _gaps(number: int, dossier: Dossier) -> str:
    table = Table(
        "What the headings ask for and the graph does not hold",
        ("Heading", "Not recorded", "Which records"),
        tuple((g.heading, g.item, g.detail or "all: the graph has no place for it") for g in dossier.gaps),
        "Nothing the headings above ask for is missing.",
    )
    intro = Note(
        "Written as “not recorded” wherever it occurs above. The provider supplies these from its own "
        "records; this document does not fill them in.",
        "gap",
    )
    present = Facts(
        (("Recorded for every record concerned", ", ".join(dossier.present) or None),),
        "What the graph holds in full",
    )
    return (
        f'<section id="gaps"><h2>{number}. Not recorded: summary</h2>'
        f"{_block(intro)}{_table(table)}{_facts(present)}</section>"
    )


def _contents(dossier: Dossier) -> str:
    items = [
        f'<li><a href="#{s.key}">{_text(s.title)}</a> '
        f'<span class="cites">{_text(", ".join(s.cites))}</span></li>'
        for s in dossier.sections
    ]
    items.append('<li><a href="#gaps">Not recorded: summary</a></li>')
    return f"<nav><h2>Contents</h2><ol>{''.join(items)}</ol></nav>"


def html(dossier: Dossier) -> str:
    """The whole page."""
    about = (
        "Drawn from the provenance graph. Every fact is as it held on the “as of” date, as the service had "
        "recorded it by the “known at” time; exporting again with both times gives the same facts. What the "
        "graph does not hold is written as “not recorded” and listed in the last section — nothing is "
        "filled in from elsewhere. Headings follow the EU AI Act's Annex IV (and Articles 10 and 12) where "
        "the graph holds the facts they ask for."
    )
    sections = "".join(_section(i, s) for i, s in enumerate(dossier.sections, start=1))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="provgraph">'
        f"<title>{_text(dossier.title)}</title><style>{CSS}</style></head><body>"
        '<header class="title-page">'
        '<p class="kind">Technical documentation · EU AI Act Annex IV headings</p>'
        f"<h1>{_text(dossier.title)}</h1>"
        f'<p class="stamp">{_text(dossier.stamp)}</p>'
        f'<div class="summary">{_facts(dossier.summary)}</div>'
        f'<p class="about">{_text(about)}</p>'
        f"{_contents(dossier)}</header><main>{sections}"
        f"{_gaps(len(dossier.sections) + 1, dossier)}</main>"
        f"<footer>{_text(dossier.stamp)}</footer></body></html>\n"
    )
