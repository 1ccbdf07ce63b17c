"""The vendors' part of the summaries (trends page, weekly report, metrics
CSV): vendor health and queue SLA attainment over the period, answered to
incidents' `summary_sections_requested` (incidents never imports vendors).

Every number comes from vendors.metrics (one definition each). Percentages
are on a 0-100 scale, as incidents' own attainments. Queries: the four of
vendor_metrics, one for the vendors' Chinese names and one that counts the
incidents across vendors (an incident linked to two vendors counts once).
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from incidents.metrics import Unit
from incidents.models.reference import localized
from incidents.sections import SectionMetric, SectionTable, SummarySection
from vendors.metrics import (
    VENDOR_METRICS,
    Figures,
    VendorMetricKey,
    linked_incident_totals,
    vendor_metrics,
)
from vendors.models import Vendor

SECTION_KEY = "vendors"

# vendors.metrics gives these as shares (0-1); the summaries print percentages.
SHARES = {VendorMetricKey.BELOW_TARGET, VendorMetricKey.NEAR_TARGET}
SNAPSHOT_KEYS = {
    VendorMetricKey.SLA_ATTAINMENT,
    VendorMetricKey.BELOW_TARGET,
    VendorMetricKey.NEAR_TARGET,
}
TABLE_KEYS = (
    VendorMetricKey.SLA_ATTAINMENT,
    VendorMetricKey.BELOW_TARGET,
    VendorMetricKey.QA_ACCURACY,
    VendorMetricKey.TROUBLE_INCIDENTS,
)


def _value(figures: Figures, key: str):
    value = figures.value(key)
    if value is not None and key in SHARES:
        return 100.0 * value
    return value


def _unit(key: str) -> str:
    unit = VENDOR_METRICS[key].unit
    return {Unit.PERCENT: "percent", Unit.COUNT: "count", Unit.DURATION: "duration"}.get(
        unit, "number"
    )


def _detail(key: str, total: Figures) -> str:
    if key in SNAPSHOT_KEYS and total.snapshots:
        return ngettext("%(n)d queue snapshot", "%(n)d queue snapshots", total.snapshots) % {
            "n": total.snapshots
        }
    if key == VendorMetricKey.QA_ACCURACY and total.qa_snapshots:
        return ngettext("%(n)d snapshot with QA", "%(n)d snapshots with QA", total.qa_snapshots) % {
            "n": total.qa_snapshots
        }
    return ""


def vendor_section(*, start: datetime, end: datetime) -> SummarySection:
    """Every active vendor, aggregated, and a row per vendor."""
    vendors = vendor_metrics(start=start, end=end)
    total = Figures()
    for v in vendors:
        total.snapshots += v.snapshots
        total.weighted_attainment += v.weighted_attainment
        total.outflow += v.outflow
        total.below_target += v.below_target
        total.near_target += v.near_target
        total.qa_sum += v.qa_sum
        total.qa_snapshots += v.qa_snapshots
    ids = [v.vendor_id for v in vendors]
    if ids:
        total.linked_incidents, total.trouble_incidents = linked_incident_totals(
            vendor_ids=ids, start=start, end=end
        )
        names_zh = dict(Vendor.objects.filter(id__in=ids).values_list("id", "name_zh"))
    else:
        names_zh = {}

    metrics = [
        SectionMetric(
            key=key,
            label=definition.label,
            definition=definition.definition,
            unit=_unit(key),
            value=_value(total, key),
            detail=_detail(key, total),
        )
        for key, definition in VENDOR_METRICS.items()
    ]
    table = SectionTable(
        columns=[_("Vendor"), *(VENDOR_METRICS[k].label for k in TABLE_KEYS)],
        rows=[
            [localized(v.name, names_zh.get(v.vendor_id, "")), *(_value(v, k) for k in TABLE_KEYS)]
            for v in vendors
        ],
        units=["", *(_unit(k) for k in TABLE_KEYS)],
    )
    return SummarySection(
        key=SECTION_KEY,
        title=_("Vendor health"),
        metrics=metrics,
        table=table,
        link=reverse("vendors:board"),
    )


def on_summary_sections_requested(sender, *, start, end, time_zone=None, **kwargs):
    """Receiver of incidents.signals.summary_sections_requested."""
    return vendor_section(start=start, end=end)
