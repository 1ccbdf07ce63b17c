"""The ops board: every vendor, site and queue with its health, figures,
projected breach and a 24-hour sparkline; filtered by vendor, health,
market and language; refreshed by htmx polling every 30 seconds."""

from __future__ import annotations

import html
from collections import Counter

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents.templatetags.incidents import sev_badge, state_badge
from vendors import selectors
from vendors.domain.health import Level
from vendors.realtime import BOARD_REFRESH_DELAY_MS
from vendors.selectors import QueueRow, VendorRow, sees_every_vendor, vendor_board
from vendors.views import present

SERIES_HOURS = 24
POLL_SECONDS = 30


def queue_row(
    row: QueueRow, now, *, spark: bool = True, texts: present.Texts | None = None
) -> dict:
    """One queue, prepared in Python for the template to print. `texts`:
    the page's present.Texts, shared by its rows (labels worked out once)."""
    texts = texts or present.Texts()
    queue, snapshot, health = row.queue, row.snapshot, row.health
    level = health.level
    breach, breach_class = texts.breach(health)
    attainment_class = ""
    if snapshot is not None:
        if snapshot.sla_attainment < queue.sla_percent:
            attainment_class = "bad"
        elif snapshot.sla_attainment < (queue.warn_attainment or queue.sla_percent + 2):
            attainment_class = "warn"
    staffed_class = ""
    if snapshot is not None and snapshot.planned_headcount:
        fill = snapshot.staffed_headcount / snapshot.planned_headcount
        staffed_class = "bad" if fill < 0.75 else "warn" if fill < 0.9 else ""
    return {
        "id": queue.id,
        "vendor_id": queue.vendor_id,
        "name": queue.display_name,
        "code": queue.code,
        "market": queue.market,
        "language": queue.language,
        "content_type": queue.content_type,
        "site": queue.site.display_name if queue.site_id else "",
        "time_zone": queue.time_zone_name(),
        "target": f"{queue.sla_percent:g}% / {queue.sla_minutes} min",
        "sla_percent": queue.sla_percent,
        "level": level.value,
        "level_class": present.LEVEL_CLASS[level],
        "level_label": texts.level_label(level),
        "reasons": texts.reasons(health),
        "breach": breach,
        "breach_class": breach_class,
        "snapshot": snapshot,
        "backlog": present.number(snapshot.backlog) if snapshot else "—",
        "inflow": present.number(snapshot.inflow_per_hour) if snapshot else "—",
        "outflow": present.number(snapshot.outflow_per_hour) if snapshot else "—",
        "oldest": texts.minutes(snapshot.oldest_item_minutes) if snapshot else "—",
        "oldest_class": (
            "bad" if snapshot and snapshot.oldest_item_minutes > queue.sla_minutes else ""
        ),
        "attainment": f"{snapshot.sla_attainment:.1f}%" if snapshot else "—",
        "attainment_class": attainment_class,
        "staffed": (
            f"{snapshot.staffed_headcount}/{snapshot.planned_headcount}" if snapshot else "—"
        ),
        "staffed_class": staffed_class,
        "qa": f"{snapshot.qa_accuracy:.1f}%" if snapshot and snapshot.qa_accuracy else "—",
        "age": texts.age(snapshot.taken_at if snapshot else None, now),
        "taken_at": snapshot.taken_at if snapshot else None,
        "stale": level is Level.STALE,
        "spark": (
            present.sparkline(
                row.series,
                now=now,
                hours=SERIES_HOURS,
                target=queue.sla_percent,
                level=level,
                texts=texts,
            )
            if spark
            else ""
        ),
    }


def board_head_html() -> SafeString:
    """The queue table's <thead>, once per page (every vendor's table
    repeats it); its columns go with board_row_html's."""
    e = html.escape
    columns = (
        ("", _("Queue")),
        ("", _("Health")),
        (' class="num-col"', _("Backlog")),
        (' class="num-col"', _("In / h")),
        (' class="num-col"', _("Out / h")),
        (' class="num-col"', _("Oldest")),
        (' class="num-col"', _("SLA")),
        (' class="num-col"', _("Staffed")),
        ("", _("Projection")),
        ("", _("Reported")),
        ("", _("24 h")),
    )
    cells = "".join(f'        <th scope="col"{attrs}>{e(label)}</th>\n' for attrs, label in columns)
    return mark_safe(f"<thead><tr>\n{cells}      </tr></thead>")  # noqa: S308 - escaped  # nosec B308 B703


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape_fast(text: str) -> str:
    """html.escape(text) in one pass of str.translate (a board escapes a few
    thousand values; html.escape makes five passes each)."""
    return text.translate(_ESCAPES)


def board_row_html(q: dict, labels: dict) -> SafeString:
    """One queue's <tr> on the board, written in Python: the board prints
    hundreds of rows, and the template engine's lookups were most of its
    time. Every value is escaped here. `labels`: the page's fixed texts
    ("target"), and a memo of the <time> tags it has written."""
    e = escape_fast
    reasons = f'<div class="small vq-reasons">{e(q["reasons"])}</div>' if q["reasons"] else ""
    if q["breach"]:
        breach = f'<span class="breach breach-{q["breach_class"]}">{e(q["breach"])}</span>'
    else:
        breach = '<span class="muted">—</span>'
    taken_at = q["taken_at"]
    if taken_at is not None:
        times = labels.setdefault("times", {})  # queues report at the same moments
        tag = times.get(taken_at)
        if tag is None:
            local = timezone.localtime(taken_at)
            tag = times[taken_at] = (
                f'<time datetime="{local.isoformat()}" title="{local:%Y-%m-%d %H:%M}">'
            )
        reported = f"{tag}{e(q['age'])}</time>"
    else:
        reported = "—"
    where = " · ".join(
        e(part) for part in (q["site"], q["market"] or "—", q["language"] or "—") if part
    )
    return mark_safe(  # noqa: S308 - every value above is escaped  # nosec B308 B703
        f'<tr data-queue="{e(q["code"])}" data-level="{q["level"]}">'
        f'<td class="cell-queue"><strong>{e(q["name"])}</strong>'
        f'<div class="muted small">{where}</div></td>'
        f'<td class="cell-health"><span class="hl hl-{q["level_class"]}">'
        f"{e(q['level_label'])}</span>{reasons}</td>"
        f'<td class="num-col num">{q["backlog"]}</td>'
        f'<td class="num-col num">{q["inflow"]}</td>'
        f'<td class="num-col num">{q["outflow"]}</td>'
        f'<td class="num-col num {q["oldest_class"]}-text">{e(q["oldest"])}</td>'
        f'<td class="num-col"><span class="num {q["attainment_class"]}-text">'
        f'{q["attainment"]}</span><div class="muted small nowrap">'
        f"{labels['target']} {e(q['target'])}</div></td>"
        f'<td class="num-col num {q["staffed_class"]}-text">{q["staffed"]}</td>'
        f'<td class="cell-breach">{breach}</td>'
        f'<td class="cell-breach small{" bad-text" if q["stale"] else ""}">{reported}</td>'
        f'<td class="cell-spark">{q["spark"]}</td></tr>'
    )


def incident_chip(incident) -> dict:
    return {
        "id": incident.id,
        "reference": incident.reference,
        "title": incident.display_title,
        "severity": sev_badge(incident.severity),
        "state": state_badge(incident.state),
        "declared_at": incident.declared_at,
    }


def vendor_block(vendor_row: VendorRow, queues: list[dict], incidents) -> dict:
    vendor = vendor_row.vendor
    return {
        "id": vendor.id,
        "name": vendor.display_name,
        "code": vendor.code,
        "languages": ", ".join(vendor.languages or []),
        "markets": ", ".join(vendor.markets or []),
        "level": vendor_row.health.level.value,
        "level_class": present.LEVEL_CLASS[vendor_row.health.level],
        "level_label": present.level_label(vendor_row.health.level),
        "reasons": present.reasons_text(vendor_row.health),
        "sites": [
            {
                "id": s.id,
                "name": s.display_name,
                "city": s.city,
                "status": s.status,
                "status_label": s.get_status_display(),
                "status_class": present.SITE_STATUS_CLASS.get(s.status, "none"),
                "reason": s.status_reason,
            }
            for s in vendor_row.sites
        ],
        "queues": queues,
        "incidents": [incident_chip(i) for i in incidents],
    }


def board_context(request, *, now=None) -> dict:
    now = now or timezone.now()
    board = vendor_board(viewer=request.user, now=now, series_hours=SERIES_HOURS)
    params = request.GET
    chosen = {
        "vendor": params.get("vendor", ""),
        "level": params.get("level", ""),
        "market": params.get("market", ""),
        "language": params.get("language", ""),
    }
    markets, languages = set(), set()
    counts: Counter = Counter()
    for vendor_row in board:
        for row in vendor_row.queues:
            if row.queue.market:
                markets.add(row.queue.market)
            if row.queue.language:
                languages.add(row.queue.language)
    filtered = any(chosen.values())

    def keep(row: QueueRow) -> bool:
        return (
            (not chosen["level"] or row.health.level.value == chosen["level"])
            and (not chosen["market"] or row.queue.market == chosen["market"])
            and (not chosen["language"] or row.queue.language == chosen["language"])
        )

    shown = [v for v in board if not chosen["vendor"] or str(v.vendor.id) == chosen["vendor"]]
    incidents = selectors.open_incidents_by_vendor(v.vendor.id for v in shown)
    vendors = []
    labels = {"target": html.escape(_("target"))}
    texts = present.Texts()
    for vendor_row in shown:
        rows = [r for r in vendor_row.queues if keep(r)]
        if filtered and not rows and (chosen["level"] or chosen["market"] or chosen["language"]):
            continue
        counts.update(r.health.level for r in rows)
        block = vendor_block(
            vendor_row,
            [queue_row(r, now, texts=texts) for r in rows],
            incidents.get(vendor_row.vendor.id, []),
        )
        block["rows_html"] = mark_safe(  # noqa: S308 - rows are built escaped  # nosec B308 B703
            "".join(board_row_html(q, labels) for q in block["queues"])
        )
        vendors.append(block)
    summary = [
        {
            "level": level.value,
            "class": present.LEVEL_CLASS[level],
            "label": present.level_label(level),
            "count": counts[level],
        }
        for level in present.LEVEL_ORDER_WORST_FIRST
        if counts[level]
    ]
    query = params.copy()
    return {
        "vendors": vendors,
        "summary": summary,
        "queue_count": sum(counts.values()),
        "vendor_choices": [(v.vendor.id, v.vendor.display_name) for v in board],
        "level_choices": [(lv.value, present.level_label(lv)) for lv in Level],
        "market_choices": sorted(markets),
        "language_choices": sorted(languages),
        "chosen": chosen,
        "filtered": filtered,
        "query": query.urlencode(),
        "now": now,
        "thead_html": board_head_html(),
        "poll_seconds": POLL_SECONDS,
        "board_refresh_delay_ms": BOARD_REFRESH_DELAY_MS,
        "can_manage": request.user.has_perm("vendors.manage"),
        "nav_current": "vendors",
    }


@require_GET
@login_required
def board(request: HttpRequest) -> HttpResponse:
    if not sees_every_vendor(request.user):
        if request.user.has_perm("tscc.view_vendor_portal"):
            return HttpResponseRedirect(reverse("vendors:portal"))
        raise PermissionDenied
    context = board_context(request)
    if request.htmx and request.htmx.target == "vendor-board":
        return render(request, "vendors/board.html#board", context)
    return render(request, "vendors/board.html", context)
