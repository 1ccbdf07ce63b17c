"""What the vendor pages print: labels for health levels and reasons, short
texts for ages and projections, and inline SVG charts (sparklines and line
charts) rendered on the server from plain series. Pure: no queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import itemgetter

from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from vendors.domain.health import Health, Level, Reason

LEVEL_LABELS = {
    Level.OK: gettext_lazy("Healthy"),
    Level.UNKNOWN: gettext_lazy("No data"),
    Level.WARN: gettext_lazy("At risk"),
    Level.STALE: gettext_lazy("Stale"),
    Level.BREACH: gettext_lazy("Breached"),
}
LEVEL_ORDER_WORST_FIRST = (Level.BREACH, Level.STALE, Level.WARN, Level.UNKNOWN, Level.OK)

REASON_LABELS = {
    Reason.ATTAINMENT_BELOW_SLA: gettext_lazy("SLA attainment below target"),
    Reason.ATTAINMENT_NEAR_SLA: gettext_lazy("SLA attainment near target"),
    Reason.OLDEST_OVER_SLA: gettext_lazy("oldest item past the SLA time"),
    Reason.UNDERSTAFFED: gettext_lazy("understaffed"),
    Reason.SEVERELY_UNDERSTAFFED: gettext_lazy("severely understaffed"),
    Reason.PROJECTED_BREACH: gettext_lazy("breach projected within the hour"),
    Reason.STALE_REPORT: gettext_lazy("no report during the shift"),
    Reason.NO_REPORT: gettext_lazy("no report yet"),
    Reason.OFF_SHIFT: gettext_lazy("off shift"),
    Reason.SITE_DOWN: gettext_lazy("a site is down"),
    Reason.SITE_DEGRADED: gettext_lazy("a site is degraded"),
    Reason.SITE_BCP_ACTIVE: gettext_lazy("a site runs its continuity plan"),
}

SITE_STATUS_CLASS = {
    "operational": "ok",
    "degraded": "warn",
    "down": "bad",
    "bcp_active": "warn",
}
LEVEL_CLASS = {
    Level.OK: "ok",
    Level.UNKNOWN: "none",
    Level.WARN: "warn",
    Level.STALE: "stale",
    Level.BREACH: "bad",
}
LEVEL_COLOUR = {
    Level.OK: "#17803d",
    Level.UNKNOWN: "#8a93a3",
    Level.WARN: "#a85d00",
    Level.STALE: "#6b4fbb",
    Level.BREACH: "#b42318",
}
PALETTE = ("#2f5bd3", "#d9480f", "#0f8a6a", "#8b3fc9", "#c2185b", "#5c6b00", "#00838f", "#6d4c41")


def level_label(level: Level) -> str:
    return str(LEVEL_LABELS[level])


def reasons_text(health: Health) -> str:
    return ", ".join(str(REASON_LABELS[r]) for r in health.reasons)


# Texts a page repeats per row, translated once per page by Texts.text.
MESSAGES = {
    "hours_minutes": gettext_lazy("%(h)dh %(m)02dm"),
    "ago": gettext_lazy("%(t)s ago"),
    "just_now": gettext_lazy("just now"),
    "breached": gettext_lazy("breached"),
    "breach_in": gettext_lazy("breach in %(t)s"),
    "spark_label": gettext_lazy("SLA attainment, last %(h)d hours: from %(first)s%% to %(last)s%%"),
    "spark_empty": gettext_lazy("No figures in the last 24 hours"),
}


class Texts:
    """The short texts a page repeats for its rows, each worked out once:
    labels of levels and reasons, "12 min", "3h 05m ago", projections, the
    sparklines' fixed parts. Create one per page (its translations are those
    of the language active when it is used, which is one language per
    page); the module's functions below make a fresh one per call."""

    def __init__(self) -> None:
        self._levels: dict[Level, str] = {}
        self._reasons: dict[tuple, str] = {}
        self._minutes: dict[int, str] = {}
        self._ago: dict[float, str] = {}
        self._text: dict[str, str] = {}
        self._empty_spark: dict[tuple[str, str], SafeString] = {}
        self._spark_x: dict[tuple, dict[datetime, str]] = {}

    def text(self, key: str) -> str:
        """MESSAGES[key] in the active language."""
        try:
            return self._text[key]
        except KeyError:
            text = self._text[key] = str(MESSAGES[key])
            return text

    def level_label(self, level: Level) -> str:
        try:
            return self._levels[level]
        except KeyError:
            text = self._levels[level] = level_label(level)
            return text

    def reasons(self, health: Health) -> str:
        try:
            return self._reasons[health.reasons]
        except KeyError:
            text = self._reasons[health.reasons] = reasons_text(health)
            return text

    def minutes(self, minutes: float) -> str:
        minutes = int(minutes)
        try:
            return self._minutes[minutes]
        except KeyError:
            pass
        if minutes < 60:
            text = ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
        else:
            hours, rest = divmod(minutes, 60)
            if hours < 48:
                text = self.text("hours_minutes") % {"h": hours, "m": rest}
            else:
                days = hours // 24
                text = ngettext("%(d)d day", "%(d)d days", days) % {"d": days}
        self._minutes[minutes] = text
        return text

    def age(self, moment: datetime | None, now: datetime) -> str:
        if moment is None:
            return "—"
        seconds = (now - moment).total_seconds()
        if seconds < 60:
            return self.text("just_now")
        minutes = seconds // 60
        try:
            return self._ago[minutes]
        except KeyError:
            text = self._ago[minutes] = self.text("ago") % {"t": self.minutes(minutes)}
            return text

    def breach(self, health: Health) -> tuple[str, str]:
        minutes = health.projected_breach_minutes
        if health.level in (Level.STALE, Level.UNKNOWN) or minutes is None:
            return "", ""
        if minutes <= 0:
            return self.text("breached"), "bad"
        text = self.text("breach_in") % {"t": self.minutes(max(1, round(minutes)))}
        return text, "warn" if minutes <= 120 else "muted"


def minutes_text(minutes: float) -> str:
    return Texts().minutes(minutes)


def age_text(moment: datetime | None, now: datetime) -> str:
    """ "12 min ago", "3h 05m ago", "just now"."""
    return Texts().age(moment, now)


def breach_text(health: Health) -> tuple[str, str]:
    """The projection for people, and a css class: ("breached", "bad"),
    ("breach in 40 min", "warn"), ("", "")."""
    return Texts().breach(health)


def health_badge(health: Health) -> SafeString:
    return format_html(
        '<span class="hl hl-{}" title="{}">{}</span>',
        LEVEL_CLASS[health.level],
        reasons_text(health),
        level_label(health.level),
    )


def number(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


# --- charts ------------------------------------------------------------------


def _svg(template: str, *args, **kwargs) -> SafeString:
    """format_html for SVG: floats are written with one decimal (format_html
    escapes every argument to a string first, so it takes no format specs)."""

    def fix(value):
        return f"{value:.1f}" if isinstance(value, float) else value

    template = template.replace(":.1f}", "}")
    return format_html(template, *map(fix, args), **{k: fix(v) for k, v in kwargs.items()})


def _downsample(points: Sequence[tuple[float, float]], most: int) -> list[tuple[float, float]]:
    """At most `most` points: the mean of each bucket of neighbours."""
    if len(points) <= most:
        return list(points)
    size = -(-len(points) // most)
    out = []
    for i in range(0, len(points), size):
        bucket = points[i : i + size]
        out.append(
            (sum(p[0] for p in bucket) / len(bucket), sum(p[1] for p in bucket) / len(bucket))
        )
    return out


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _n(value) -> str:
    """A number as _svg writes it: floats with one decimal."""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


_ATTAINMENT = itemgetter(1)  # of a series point (taken_at, attainment, backlog)


def sparkline(
    series: Sequence[tuple[datetime, float, int]],
    *,
    now: datetime,
    hours: int,
    target: float,
    level: Level,
    width: int = 120,
    height: int = 26,
    texts: Texts | None = None,
) -> SafeString:
    """SLA attainment over the last `hours` as a small line, the target as a
    dashed line, the latest point as a dot (colour of the queue's health).
    Written with plain f-strings (a board draws hundreds): numbers are
    formatted here and the one text, the label, is escaped."""
    texts = texts or Texts()
    w, h = _n(width), _n(height)
    if not series:
        key = (w, h)
        empty = texts._empty_spark.get(key)
        if empty is None:
            mid = _n(height / 2)
            empty = texts._empty_spark[key] = mark_safe(  # noqa: S308 - label escaped  # nosec B308 B703
                f'<svg class="spark spark-empty" width="{w}" height="{h}" '
                f'viewBox="0 0 {w} {h}" role="img" '
                f'aria-label="{escape(texts.text("spark_empty"))}">'
                f'<line x1="0" x2="{w}" y1="{mid}" y2="{mid}"/></svg>'
            )
        return empty
    start = now - timedelta(hours=hours)
    span = hours * 3600
    low = min(min(map(_ATTAINMENT, series)), target) - 2
    high = 100.0
    scale = (high - low) or 1
    inner = height - 4
    # x depends on the moment only: rows of a page share them (queues
    # report at the same moments), so each is worked out once per page.
    xs = texts._spark_x.setdefault((start, span, width), {})
    points = []
    add = points.append
    for t, v, _b in series:
        x = xs.get(t)
        if x is None:
            x = xs[t] = f"{width * max(0.0, (t - start).total_seconds()) / span:.1f}"
        add(f"{x},{2 + inner * (high - v) / scale:.1f}")
    lx, ly = points[-1].split(",")
    label = escape(
        texts.text("spark_label")
        % {"h": hours, "first": f"{series[0][1]:.1f}", "last": f"{series[-1][1]:.1f}"}
    )
    ty = 2 + inner * (high - target) / scale
    colour = LEVEL_COLOUR[level]
    return mark_safe(  # noqa: S308 - numbers formatted here, the label escaped  # nosec B308 B703
        f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<line class="spark-target" x1="0" x2="{w}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
        f'<polyline points="{" ".join(points)}" style="stroke:{colour}"/>'
        f'<circle cx="{lx}" cy="{ly}" r="2.2" style="fill:{colour}"/></svg>'
    )


def line_chart(
    lines: Sequence[dict],
    *,
    since: datetime,
    until: datetime,
    label: str,
    unit: str = "",
    target: float | None = None,
    floor: float | None = None,
    ceiling: float | None = None,
    width: int = 640,
    height: int = 170,
) -> SafeString:
    """A line per {"name", "points": [(datetime, value)]}, times in the
    current zone on the x axis; a dashed target line when given."""
    left, right, top, bottom = 44, 8, 8, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for line in lines for _t, v in line["points"] if v is not None]
    if target is not None:
        values.append(target)
    if not values:
        return _svg('<p class="muted small chart-empty">{}</p>', _("No figures yet."))
    low = min(values) if floor is None else min(floor, min(values))
    high = max(values) if ceiling is None else ceiling
    if high - low < 1e-9:
        high = low + 1
    pad = (high - low) * 0.05
    low = low - pad if floor is None else low
    high = high if ceiling is not None else high + pad
    span = (until - since).total_seconds() or 1

    def x(t: datetime) -> float:
        return left + plot_w * (t - since).total_seconds() / span

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    parts = []
    for tick in range(5):
        value = low + (high - low) * tick / 4
        ty = y(value)
        parts.append(
            _svg(
                '<line class="grid" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/>'
                '<text class="axis" x="{}" y="{:.1f}" text-anchor="end">{}</text>',
                left,
                width - right,
                ty,
                ty,
                left - 5,
                ty + 3.5,
                f"{value:,.0f}{unit}" if high - low >= 10 else f"{value:,.1f}{unit}",
            )
        )
    days = (until - since).days or 1
    step = max(1, days // 6)
    day = timezone.localtime(since).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= until:
        if day >= since and x(day) < width - right - 16:
            tx = x(day)
            parts.append(
                _svg(
                    '<line class="grid grid-v" x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}"/>'
                    '<text class="axis" x="{:.1f}" y="{}" text-anchor="middle">{}</text>',
                    tx,
                    tx,
                    top,
                    top + plot_h,
                    tx,
                    height - 6,
                    day.strftime("%m-%d"),
                )
            )
        day = timezone.localtime(day + timedelta(days=step, hours=2)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    if target is not None:
        ty = y(target)
        parts.append(
            _svg(
                '<line class="target" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/>',
                left,
                width - right,
                ty,
                ty,
            )
        )
    for line in lines:
        raw = [(x(t), y(v)) for t, v in line["points"] if v is not None]
        points = _downsample(raw, plot_w // 2)
        if not points:
            continue
        parts.append(
            _svg(
                '<polyline points="{}" style="stroke:{}"><title>{}</title></polyline>',
                _path(points),
                line["colour"],
                line["name"],
            )
        )
        if len(points) <= 30:  # sparse (weekly) series: mark each point
            parts.extend(
                _svg(
                    '<circle cx="{:.1f}" cy="{:.1f}" r="2.5" style="fill:{}"/>',
                    px,
                    py,
                    line["colour"],
                )
                for px, py in points
            )
    body = mark_safe("".join(parts))  # noqa: S308 - every part went through format_html  # nosec B308 B703
    legend = format_html_join(
        "",
        '<span class="legend-item"><i style="background:{}"></i>{}</span>',
        ((line["colour"], line["name"]) for line in lines),
    )
    return _svg(
        '<figure class="chart"><svg viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}">{body}</svg>'
        '<figcaption class="legend">{legend}</figcaption></figure>',
        w=width,
        h=height,
        label=label,
        body=body,
        legend=legend,
    )
