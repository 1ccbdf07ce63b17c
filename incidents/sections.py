"""Sections other apps add to the summaries (trends page, weekly report,
metrics API and CSV), asked through a signal so incidents never imports them
(ARCHITECTURE.md): vendors answers with vendor health and queue SLA
attainment.

A receiver of `summary_sections_requested` gets `start`, `end` (aware
datetimes, the period [start, end)) and `time_zone` (an IANA name) and
returns a SummarySection or a list of them. Texts are lazy translations or
plain strings (names), rendered in whatever language is active.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incidents.signals import summary_sections_requested

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SectionMetric:
    key: str  # stable, e.g. "queue_sla_attainment"
    label: Any  # lazy text
    definition: Any  # one sentence, shown next to the number
    unit: str  # "percent", "count", "duration" (value in seconds) or "number"
    value: float | None  # None: nothing to measure in the period
    detail: str = ""  # e.g. "412,300 items weighed"


@dataclass(frozen=True)
class SectionTable:
    columns: list[Any]
    rows: list[list[Any]]  # cells: str, int, float or None
    units: list[str] = field(default_factory=list)  # per column, as SectionMetric.unit, "" text


@dataclass(frozen=True)
class SummarySection:
    key: str  # stable, e.g. "vendors"
    title: Any
    metrics: list[SectionMetric]
    table: SectionTable | None = None
    link: str = ""  # a page with more, for people who may open it


def summary_sections(*, start: datetime, end: datetime, time_zone: str) -> list[SummarySection]:
    """Every section the other apps offer for the period, by key. A failing
    receiver is logged and left out: a summary without the vendor part is
    better than no summary."""
    sections: list[SummarySection] = []
    for receiver, answer in summary_sections_requested.send_robust(
        sender=None, start=start, end=end, time_zone=time_zone
    ):
        if isinstance(answer, Exception):
            logger.error("summary section from %r failed", receiver, exc_info=answer)
            continue
        if answer is None:
            continue
        sections.extend(answer if isinstance(answer, list | tuple) else [answer])
    return sorted(sections, key=lambda s: s.key)
