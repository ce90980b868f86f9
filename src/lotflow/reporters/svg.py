"""A scenario's sequence diagram (``sequence``) drawn as inline SVG, for the HTML story.

The picture needs no script and no font or file from anywhere, so the story page stays one
self-contained file that any browser shows as it is. Layout: one column per participant (a box
with its name over a dashed lifeline), then one row per note or arrow, top to bottom in the
order things happened. Each step starts with a full-width band carrying its title; a failed
step's rows are shaded red. Requests are solid arrows, answers dashed; an arrow that ends in a
cross was not answered or was refused unexpectedly; a refusal the scenario expected is drawn in
violet with an ordinary head. Text widths are estimated from character counts (no font
metrics without a browser), generously, so that labels do not collide.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from itertools import pairwise

from lotflow.reporters.sequence import Arrow, Diagram, Note

__all__ = ["standalone_page", "to_svg"]

FONT = 12  # px
CHAR = 7.4  # px: a generous average advance of a 12px sans-serif character
MARGIN = 16
HEAD_H, HEAD_MIN_W = 34, 120
BAND_H, NOTE_H, ARROW_H = 26, 26, 32
GAP_MIN = 40  # px between two participant boxes
LOOP_W = 36  # px a self-arrow (a state that stays what it is) reaches to the right
FAILED_FILL = "rgba(207, 34, 46, 0.12)"
INK, MUTED, BAND, NOTE_FILL = "#1b1f24", "#57606a", "#eaeef2", "#fff8c5"
EXPECTED_INK = "#6639ba"  # a refusal the scenario asked for: neither a failure (red) nor plain


def _width(text: str) -> float:
    return len(text) * CHAR


def _text(x: float, y: float, text: str, *, anchor: str = "middle", fill: str = INK) -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' fill='{fill}'>"
        f"{html.escape(text)}</text>"
    )


@dataclass
class _Layout:
    centers: dict[str, float]
    boxes: dict[str, float]  # participant → box width
    width: float


def _layout(diagram: Diagram) -> _Layout:
    keys = [key for key, _ in diagram.participants]
    boxes = {key: max(HEAD_MIN_W, _width(name) + 24) for key, name in diagram.participants}
    index = {key: i for i, key in enumerate(keys)}
    gaps = [boxes[a] / 2 + boxes[b] / 2 + GAP_MIN for a, b in pairwise(keys)]
    arrows = [item for block in diagram.blocks for item in block.items if isinstance(item, Arrow)]
    loops: dict[str, float] = {}  # participant → room its self-arrows' labels need on its right
    for arrow in sorted(arrows, key=lambda a: abs(index[a.source] - index[a.target])):
        low, high = sorted((index[arrow.source], index[arrow.target]))
        if low == high:
            room = _width(arrow.label) + LOOP_W + 16
            loops[arrow.source] = max(loops.get(arrow.source, 0.0), room)
            if low < len(gaps):
                gaps[low] = max(gaps[low], room + boxes[keys[low + 1]] / 2)
            continue
        need = _width(arrow.label) + 24 - sum(gaps[low:high])
        if need > 0:
            gaps[high - 1] += need
    notes = [item for block in diagram.blocks for item in block.items if isinstance(item, Note)]
    centers: dict[str, float] = {}
    x = MARGIN + max(boxes[keys[0]] / 2, *_note_halves(notes, keys[0]))
    for i, key in enumerate(keys):
        centers[key] = x
        if i < len(gaps):
            x += gaps[i]
    right = max(
        centers[k] + max(boxes[k] / 2, loops.get(k, 0.0), *_note_halves(notes, k)) for k in keys
    )
    widest_band = max((_width(b.heading.text) + 16 for b in diagram.blocks), default=0)
    width = max(right + MARGIN, MARGIN * 2 + widest_band)
    return _Layout(centers, boxes, width)


def _note_halves(notes: list[Note], key: str) -> list[float]:
    return [_width(n.text) / 2 + 8 for n in notes if n.over == key] or [0.0]


def to_svg(diagram: Diagram, *, ident: str, title: str) -> str:
    """The diagram as an ``<svg>`` element; ``ident`` makes its marker ids unique in a page."""
    layout = _layout(diagram)
    rows: list[str] = []
    shades: list[str] = []
    y = MARGIN + HEAD_H + 12
    for block in diagram.blocks:
        top = y
        rows.append(
            f"<rect x='{MARGIN}' y='{y:.1f}' width='{layout.width - 2 * MARGIN:.1f}' "
            f"height='{BAND_H - 4}' rx='3' fill='{BAND}'/>"
        )
        rows.append(_text(MARGIN + 8, y + BAND_H - 10, block.heading.text, anchor="start"))
        y += BAND_H
        for item in block.items:
            if isinstance(item, Note):
                rows.append(_note(item, layout, y))
                y += NOTE_H
            else:
                rows.append(_arrow(item, layout, y + ARROW_H - 8, ident))
                y += ARROW_H
        if block.failed:
            shades.append(
                f"<rect x='{MARGIN / 2}' y='{top - 4:.1f}' width='{layout.width - MARGIN:.1f}' "
                f"height='{y - top + 4:.1f}' fill='{FAILED_FILL}'/>"
            )
        y += 6
    height = y + MARGIN
    heads = [_head(key, name, layout) for key, name in diagram.participants]
    lifelines = [
        f"<line x1='{x:.1f}' y1='{MARGIN + HEAD_H:.1f}' x2='{x:.1f}' y2='{height - MARGIN:.1f}' "
        f"stroke='{MUTED}' stroke-dasharray='3 4'/>"
        for x in layout.centers.values()
    ]
    return "".join(
        [
            f"<svg xmlns='http://www.w3.org/2000/svg' class='sequence' role='img' "
            f"width='{layout.width:.0f}' height='{height:.0f}' "
            f"viewBox='0 0 {layout.width:.0f} {height:.0f}' font-size='{FONT}' "
            f"font-family='system-ui, sans-serif'>",
            f"<title>{html.escape(title)}</title>",
            _markers(ident),
            *shades,
            *lifelines,
            *heads,
            *rows,
            "</svg>",
        ]
    )


def _markers(ident: str) -> str:
    return (
        "<defs>"
        f"<marker id='{ident}-head' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' "
        f"markerHeight='8' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        f"fill='{INK}'/></marker>"
        f"<marker id='{ident}-cross' viewBox='0 0 10 10' refX='5' refY='5' markerWidth='10' "
        f"markerHeight='10' orient='auto'><path d='M1,1 L9,9 M9,1 L1,9' stroke='#cf222e' "
        "stroke-width='2'/></marker>"
        "</defs>"
    )


def _head(key: str, name: str, layout: _Layout) -> str:
    x, w = layout.centers[key], layout.boxes[key]
    return (
        f"<rect x='{x - w / 2:.1f}' y='{MARGIN}' width='{w:.1f}' height='{HEAD_H}' rx='4' "
        f"fill='#ffffff' stroke='{INK}'/>" + _text(x, MARGIN + HEAD_H / 2 + 4, name)
    )


def _note(note: Note, layout: _Layout, y: float) -> str:
    x = layout.centers[note.over] if note.over else layout.width / 2
    w = _width(note.text) + 16
    return (
        f"<rect x='{x - w / 2:.1f}' y='{y + 2:.1f}' width='{w:.1f}' height='{NOTE_H - 6}' "
        f"fill='{NOTE_FILL}' stroke='#d4a72c'/>" + _text(x, y + NOTE_H - 9, note.text)
    )


def _loop(arrow: Arrow, layout: _Layout, y: float, ident: str) -> str:
    x = layout.centers[arrow.source]
    path = (
        f"<path class='arrow loop' d='M{x:.1f},{y - 8:.1f} C{x + LOOP_W:.1f},{y - 8:.1f} "
        f"{x + LOOP_W:.1f},{y + 8:.1f} {x:.1f},{y + 8:.1f}' fill='none' stroke='{INK}' "
        f"stroke-width='1.4' marker-end='url(#{ident}-head)'/>"
    )
    return path + _text(x + LOOP_W + 4, y + 4, arrow.label, anchor="start")


def _arrow(arrow: Arrow, layout: _Layout, y: float, ident: str) -> str:
    if arrow.source == arrow.target:
        return _loop(arrow, layout, y, ident)
    start, end = layout.centers[arrow.source], layout.centers[arrow.target]
    dash = " stroke-dasharray='6 4'" if arrow.answer else ""
    tip = "cross" if arrow.lost else "head"
    kind = "answer" if arrow.answer else "request"
    css = (
        f"arrow {kind}" + (" lost" if arrow.lost else "") + (" expected" if arrow.expected else "")
    )
    ink = EXPECTED_INK if arrow.expected else INK
    line = (
        f"<line class='{css}' x1='{start:.1f}' y1='{y:.1f}' x2='{end:.1f}' y2='{y:.1f}' "
        f"stroke='{ink}' stroke-width='1.4'{dash} marker-end='url(#{ident}-{tip})'/>"
    )
    return line + _text((start + end) / 2, y - 6, arrow.label, fill=ink)


def standalone_page(title: str, style: str, body: str) -> str:
    """A self-contained HTML page for inline SVG pictures: no script, nothing fetched (its
    Content-Security-Policy forbids both), readable offline in any browser."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{style}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )
