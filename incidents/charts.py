"""Inline SVG charts for the summaries, rendered on the server from plain
numbers: stacked bars, lines, horizontal bars and attainment meters.

Pure: no queries, no translations. Every text (titles, labels, tooltips) is
passed in already translated and is escaped here. Colours come from CSS
classes (static/tscc/css/app.css, "summaries: trends"), so the charts follow
the app's variables: `s-sev0`..`s-sev4` for severities, `s-1`..`s-4` for
series. Each chart is role="img" with a <title> and a <desc>; each mark
carries its own <title> so a pointer (or a screen reader) reads the number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 460, 210
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 10, 14, 24
MOST_X_LABELS = 8


def _n(value: float) -> str:
    """A coordinate, short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent  # pragma: no cover - the loop always returns


def _ticks(top: float) -> list[float]:
    """Four or five steps, whole numbers when the top allows it."""
    count = next((c for c in (5, 4, 2) if (top / c).is_integer()), 4)
    return [top * i / count for i in range(count + 1)]


def count_top(value: float) -> float:
    """An axis top for counts: whole-number ticks (4, 8, 10, 15, 20, 25, ...)."""
    if value <= 4:
        return 4.0
    if value <= 8:
        return 8.0
    return nice_max(value)


def _x_label_every(n: int) -> int:
    return max(1, math.ceil(n / MOST_X_LABELS))


@dataclass(frozen=True)
class Frame:
    """The plot area inside the chart and its scales."""

    n: int
    top: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_w(self) -> float:
        return self.width - PAD_LEFT - PAD_RIGHT

    @property
    def plot_h(self) -> float:
        return self.height - PAD_TOP - PAD_BOTTOM

    @property
    def slot(self) -> float:
        return self.plot_w / max(self.n, 1)

    def x_center(self, i: int) -> float:
        return PAD_LEFT + self.slot * (i + 0.5)

    def y(self, value: float) -> float:
        return PAD_TOP + self.plot_h * (1 - min(max(value, 0.0), self.top) / self.top)


def _open(title: str, desc: str, frame: Frame, css: str) -> str:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title><desc>{}</desc>",
        css,
        frame.width,
        frame.height,
        title,
        desc,
    )


def _grid(frame: Frame, y_text: Callable[[float], str]) -> str:
    parts = []
    for tick in _ticks(frame.top):
        y = _n(frame.y(tick))
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end" dy="0.32em">{}</text>',
                PAD_LEFT,
                frame.width - PAD_RIGHT,
                y,
                y,
                PAD_LEFT - 6,
                y,
                y_text(tick),
            )
        )
    return "".join(parts)


def _x_labels(frame: Frame, labels: Sequence[str]) -> str:
    every = _x_label_every(len(labels))
    parts = []
    for i, label in enumerate(labels):
        if i % every and i != len(labels) - 1:
            continue
        if i != len(labels) - 1 and len(labels) - 1 - i < every and i % every == 0 and i:
            continue  # too close to the last label, which is always shown
        parts.append(
            format_html(
                '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(frame.x_center(i)),
                frame.height - 8,
                label,
            )
        )
    return "".join(parts)


def _count_text(value: float) -> str:
    return f"{value:g}"


def stacked_bars(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    tooltips: Sequence[str],
    stacks: Sequence[Sequence[tuple[str, float, str]]],
) -> SafeString:
    """Vertical bars, one per bucket, each a stack of (css class, value,
    tooltip) segments from the bottom up. `labels` name the buckets on the
    x axis; `tooltips` name them in each segment's <title>."""
    totals = [sum(v for _c, v, _t in stack) for stack in stacks]
    frame = Frame(n=len(labels), top=count_top(max(totals, default=0)))
    bar_w = max(min(frame.slot * 0.72, 48), 1.5)
    parts = [_open(title, desc, frame, "chart-bars"), _grid(frame, _count_text)]
    for i, stack in enumerate(stacks):
        base = 0.0
        x = frame.x_center(i) - bar_w / 2
        for css, value, tip in stack:
            if value <= 0:
                continue
            y_top, y_bottom = frame.y(base + value), frame.y(base)
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {}</title></rect>",
                    css,
                    _n(x),
                    _n(y_top),
                    _n(bar_w),
                    _n(max(y_bottom - y_top, 0.5)),
                    tooltips[i],
                    tip,
                )
            )
            base += value
        if totals[i] and len(labels) <= 31:
            parts.append(
                format_html(
                    '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(frame.x_center(i)),
                    _n(frame.y(totals[i]) - 4),
                    _count_text(totals[i]),
                )
            )
    parts.append(_baseline(frame))
    parts.append(_x_labels(frame, labels))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece escaped by format_html  # nosec B308 B703


def _baseline(frame: Frame) -> str:
    y = _n(frame.y(0))
    return format_html(
        '<line class="baseline" x1="{}" x2="{}" y1="{}" y2="{}"/>',
        PAD_LEFT,
        frame.width - PAD_RIGHT,
        y,
        y,
    )


@dataclass(frozen=True)
class Line:
    css: str  # "s-1".."s-4"
    name: str
    values: Sequence[float | None]  # None: nothing measured in that bucket
    texts: Sequence[str]  # each value as printed (tooltips)


def line_chart(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    tooltips: Sequence[str],
    lines: Sequence[Line],
    y_text: Callable[[float], str],
    top: float | None = None,
    y_ticks: Callable[[float], float] | None = None,
) -> SafeString:
    """Lines over buckets; a bucket with nothing measured is a gap, and a
    lone point between gaps still shows as a dot. `top` fixes the y axis
    (100 for percentages); else it is rounded up from the data, through
    `y_ticks` if given (e.g. to whole hours)."""
    highest = max((v for line in lines for v in line.values if v is not None), default=0.0)
    if top is None:
        top = y_ticks(highest) if y_ticks else nice_max(highest)
    frame = Frame(n=len(labels), top=top or 1.0)
    parts = [_open(title, desc, frame, "chart-lines"), _grid(frame, y_text)]
    for line in lines:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(line.values):
            if value is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((frame.x_center(i), frame.y(value)))
        runs = [run for run in runs if run]
        for before, after in zip(runs, runs[1:], strict=False):
            # Across buckets with nothing measured: a faint dashed bridge.
            (x1, y1), (x2, y2) = before[-1], after[0]
            parts.append(
                format_html(
                    '<path class="line bridge {}" d="M{},{} L{},{}"/>',
                    line.css,
                    _n(x1),
                    _n(y1),
                    _n(x2),
                    _n(y2),
                )
            )
        for run in runs:
            if len(run) > 1:
                d = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in run)
                parts.append(format_html('<path class="line {}" d="{}"/>', line.css, d))
        for i, value in enumerate(line.values):
            if value is None:
                continue
            parts.append(
                format_html(
                    '<circle class="dot {}" cx="{}" cy="{}" r="3.6">'
                    "<title>{}: {} {}</title></circle>",
                    line.css,
                    _n(frame.x_center(i)),
                    _n(frame.y(value)),
                    tooltips[i],
                    line.name,
                    line.texts[i],
                )
            )
    parts.append(_baseline(frame))
    parts.append(_x_labels(frame, labels))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece escaped by format_html  # nosec B308 B703


def hbars(
    *, title: str, desc: str, rows: Sequence[tuple[str, float, str]], css: str = "s-1"
) -> SafeString:
    """Horizontal bars, one per (label, value, value as printed) row, longest
    first as given; the label on the left, the number at the bar's end."""
    row_h, label_w, value_w = 24, 200, 40
    width = 560
    height = max(row_h * len(rows) + 8, 34)
    top = max((v for _l, v, _t in rows), default=0) or 1
    bar_room = width - label_w - value_w - 8
    parts = [
        format_html(
            '<svg class="chart chart-hbars" viewBox="0 0 {} {}" role="img">'
            "<title>{}</title><desc>{}</desc>",
            width,
            height,
            title,
            desc,
        )
    ]
    for i, (label, value, text) in enumerate(rows):
        y = 4 + i * row_h
        w = bar_room * value / top
        parts.append(
            format_html(
                '<text class="label" x="{}" y="{}" text-anchor="end" dy="0.32em">{}</text>'
                '<rect class="track" x="{}" y="{}" width="{}" height="{}" rx="3"/>'
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="3">'
                "<title>{}: {}</title></rect>"
                '<text class="value" x="{}" y="{}" dy="0.32em">{}</text>',
                label_w - 8,
                _n(y + row_h / 2 - 2),
                _shorten(label, 27),
                label_w,
                y + 3,
                _n(bar_room),
                row_h - 10,
                css,
                label_w,
                y + 3,
                _n(max(w, 2 if value else 0)),
                row_h - 10,
                label,
                text,
                _n(label_w + max(w, 0) + 6),
                _n(y + row_h / 2 - 2),
                text,
            )
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece escaped by format_html  # nosec B308 B703


def _shorten(text: str, most: int) -> str:
    # CJK glyphs are about twice as wide as Latin ones.
    room, out = most, []
    for ch in text:
        cost = 2 if ord(ch) > 0x2E80 else 1
        if room - cost < 0:
            return "".join(out).rstrip() + "…"
        room -= cost
        out.append(ch)
    return text


def meter(*, percent: float | None, title: str, css: str = "") -> SafeString:
    """A thin bar from 0 to 100 % filled to `percent`; coloured by band
    (ok >= 95, warn >= 80, else bad) unless `css` names a class. Empty
    track when nothing was measured."""
    if percent is None:
        return format_html(
            '<svg class="meter" viewBox="0 0 100 6" preserveAspectRatio="none" role="img">'
            '<title>{}</title><rect class="track" width="100" height="6" rx="3"/></svg>',
            title,
        )
    band = css or ("ok" if percent >= 95 else "warn" if percent >= 80 else "bad")
    return format_html(
        '<svg class="meter" viewBox="0 0 100 6" preserveAspectRatio="none" role="img">'
        '<title>{}</title><rect class="track" width="100" height="6" rx="3"/>'
        '<rect class="fill-{}" width="{}" height="6" rx="3"/></svg>',
        title,
        band,
        _n(max(min(percent, 100.0), 0.0)),
    )


def swatch(css: str) -> SafeString:
    """A legend's colour square for a series class."""
    return format_html(
        '<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect class="{}" '
        'width="10" height="10" rx="2"/></svg>',
        escape(css),
    )
