"""Statistics drawn as SVG on the server: no charting library, no request to another site.

Every label (a check's name comes from a course bundle, a problem id from its
spec) passes through ``html.escape`` before it is placed in the drawing, and
the drawing is returned as ``Markup`` only after that. The numbers are also
written out in each plot's ``<title>`` and in the tables beside it, so the
page reads without the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
BAR = "#1f5fbf"
BAD = "#b3261e"
LINE = "#5b6576"


def _svg(height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="plot" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, label: str, anchor: str = "start", size: int = 12) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="#1d2430">{escape(label)}</text>')


def histogram(counts: Sequence[int], title: str) -> Markup:
    """Counted scores in ten bins of the maximum (0–10 %, …, 90–100 %)."""
    height, top, bottom, left = 220, 20, 40, 36
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    most = max(counts, default=0) or 1
    step = plot_w / max(len(counts), 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 10}" y2="{top + plot_h}" '
            f'stroke="{LINE}"/>', _text(4, top + 8, str(most)), _text(4, top + plot_h, "0")]
    for i, n in enumerate(counts):
        h = plot_h * n / most
        x = left + i * step
        body.append(f'<rect x="{x + 2:.1f}" y="{top + plot_h - h:.1f}" width="{step - 4:.1f}" '
                    f'height="{h:.1f}" fill="{BAR}"><title>{i * 10}–{i * 10 + 10} %: {n}'
                    f"</title></rect>")
        if n:
            body.append(_text(x + step / 2, top + plot_h - h - 4, str(n), "middle"))
        body.append(_text(x + step / 2, top + plot_h + 16, f"{i * 10}%", "middle", 11))
    body.append(_text(WIDTH / 2, height - 4, "share of the maximum score", "middle"))
    return _svg(height, title, body)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1
    note: str


def bars(rows: Sequence[Bar], title: str, colour: str = BAR) -> Markup:
    """One horizontal bar per row, from 0 to 100 %; the label above its bar, so long check
    names wrap nothing and the drawing keeps its width on a phone."""
    row_h, left = 38, 4
    height = max(1, len(rows)) * row_h + 8
    plot_w = WIDTH - left - 60
    body = []
    for i, r in enumerate(rows):
        y = 4 + i * row_h
        label = r.label if len(r.label) <= 80 else r.label[:79] + "…"
        body.append(_text(left, y + 12, label))
        body.append(f'<rect x="{left}" y="{y + 17}" width="{plot_w}" height="12" fill="#eef0f4"/>')
        body.append(f'<rect x="{left}" y="{y + 17}" width="{plot_w * r.value:.1f}" height="12" '
                    f'fill="{colour}"><title>{escape(r.label)}: {escape(r.note)}</title></rect>')
        body.append(_text(WIDTH - 4, y + 28, r.note, "end", 11))
    return _svg(height, title, body)


def timeline(days: Sequence[tuple[int, int]], title: str) -> Markup:
    """Submissions per day around the deadline (day 0 starts at the due date), with the
    deadline drawn as a line."""
    height, top, bottom, left = 200, 20, 40, 36
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    first = min([d for d, _ in days] + [-1])
    last = max([d for d, _ in days] + [1])
    span = last - first + 1
    step = plot_w / span
    counts = dict(days)
    most = max(counts.values(), default=0) or 1
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 10}" y2="{top + plot_h}" '
            f'stroke="{LINE}"/>', _text(4, top + 8, str(most)), _text(4, top + plot_h, "0")]
    for i, d in enumerate(range(first, last + 1)):
        n = counts.get(d, 0)
        h = plot_h * n / most
        x = left + i * step
        body.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                    f'fill="{BAD if d >= 0 else BAR}"><title>day {d}: {n}</title></rect>')
    due_x = left + (0 - first) * step
    body.append(f'<line class="deadline" x1="{due_x:.1f}" y1="{top - 6}" x2="{due_x:.1f}" '
                f'y2="{top + plot_h}" stroke="{BAD}" stroke-dasharray="4 3"/>')
    body.append(_text(due_x + 4, top + 4, "due", size=11))
    body.append(_text(left, height - 4, f"day {first}"))
    body.append(_text(WIDTH - 10, height - 4, f"day {last}", "end"))
    return _svg(height, title, body)
