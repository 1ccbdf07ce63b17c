"""What the vendor pages print: short texts and sparklines, the same whether
a page shares one present.Texts across its rows or not (the strings below
are what the board printed before the texts were shared)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from vendors.domain.health import Health, Level, Reason
from vendors.views import present

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SERIES = [
    (NOW - timedelta(hours=h, minutes=7), 96.5 - h / 3, 10 + h) for h in (30, 23, 12, 5, 0)
] + [(NOW + timedelta(minutes=1), 91.25, 3)]

SPARK = (
    '<svg class="spark" width="120" height="26" viewBox="0 0 120 26" role="img" '
    'aria-label="SLA attainment, last 24 hours: from 86.5% to 91.2%">'
    "<title>SLA attainment, last 24 hours: from 86.5% to 91.2%</title>"
    '<line class="spark-target" x1="0" x2="120" y1="9.1" y2="9.1"/>'
    '<polyline points="0.0,21.2 4.4,17.8 59.4,12.6 94.4,9.3 119.4,7.0 120.1,14.4" '
    'style="stroke:#a85d00"/>'
    '<circle cx="120.1" cy="14.4" r="2.2" style="fill:#a85d00"/></svg>'
)
EMPTY = (
    '<svg class="spark spark-empty" width="120" height="26" viewBox="0 0 120 26" role="img" '
    'aria-label="No figures in the last 24 hours"><line x1="0" x2="120" y1="13.0" y2="13.0"/>'
    "</svg>"
)
SPARK_ZH = (
    '<svg class="spark" width="120" height="26" viewBox="0 0 120 26" role="img" '
    'aria-label="近 24 小时 SLA 达成率：从 86.5% 到 88.8%">'
    "<title>近 24 小时 SLA 达成率：从 86.5% 到 88.8%</title>"
    '<line class="spark-target" x1="0" x2="120" y1="16.2" y2="16.2"/>'
    '<polyline points="0.0,21.2 4.4,17.8" style="stroke:#b42318"/>'
    '<circle cx="4.4" cy="17.8" r="2.2" style="fill:#b42318"/></svg>'
)


@pytest.mark.parametrize("shared", [False, True])
def test_sparklines(shared):
    texts = present.Texts() if shared else None
    for _ in range(2):  # the second time from the shared texts
        assert (
            present.sparkline(SERIES, now=NOW, hours=24, target=95.0, level=Level.WARN, texts=texts)
            == SPARK
        )
        assert (
            present.sparkline([], now=NOW, hours=24, target=95.0, level=Level.OK, texts=texts)
            == EMPTY
        )
    with translation.override("zh-hans"):
        assert (
            present.sparkline(SERIES[:2], now=NOW, hours=24, target=90, level=Level.BREACH)
            == SPARK_ZH
        )


def test_the_label_is_escaped():
    class Quoting(present.Texts):
        def text(self, key):
            return '<b>"%(h)d"</b>' if key == "spark_label" else super().text(key)

    svg = present.sparkline(SERIES, now=NOW, hours=24, target=95.0, level=Level.OK, texts=Quoting())
    assert 'aria-label="&lt;b&gt;&quot;24&quot;&lt;/b&gt;"' in svg and "<b>" not in svg


def test_short_texts_alone_and_shared():
    texts = present.Texts()
    minutes = (0, 1, 59.9, 60, 125, 2879, 2880, 4000)
    expected = ["0 min", "1 min", "59 min", "1h 00m", "2h 05m", "47h 59m", "2 days", "2 days"]
    assert [present.minutes_text(m) for m in minutes] == expected
    assert [texts.minutes(m) for m in minutes] == expected
    assert [texts.minutes(m) for m in minutes] == expected
    for fn in (present.age_text, texts.age, texts.age):
        assert fn(None, NOW) == "—"
        assert fn(NOW - timedelta(seconds=30), NOW) == "just now"
        assert fn(NOW - timedelta(minutes=185), NOW) == "3h 05m ago"
    cases = [
        (Health(Level.WARN, (Reason.PROJECTED_BREACH,), 30.4), ("breach in 30 min", "warn")),
        (Health(Level.BREACH, (), 0.0), ("breached", "bad")),
        (Health(Level.OK, (), 300.0), ("breach in 5h 00m", "muted")),
        (Health(Level.STALE, (), 5.0), ("", "")),
        (Health(Level.OK, (), None), ("", "")),
        (Health(Level.WARN, (), 0.3), ("breach in 1 min", "warn")),
    ]
    for health, text in cases:
        assert present.breach_text(health) == text
        assert texts.breach(health) == text
    health = Health(Level.BREACH, (Reason.ATTAINMENT_BELOW_SLA, Reason.UNDERSTAFFED))
    assert texts.reasons(health) == present.reasons_text(health)
    assert texts.reasons(health) == "SLA attainment below target, understaffed"
    assert texts.level_label(Level.STALE) == present.level_label(Level.STALE) == "Stale"


def test_short_texts_in_chinese():
    with translation.override("zh-hans"):
        texts = present.Texts()
        assert [texts.minutes(m) for m in (0, 60, 2880)] == ["0 分钟", "1 小时 00 分", "2 天"]
        assert texts.age(NOW - timedelta(seconds=30), NOW) == "刚刚"
        assert texts.age(NOW - timedelta(minutes=185), NOW) == "3 小时 05 分前"
        assert texts.breach(Health(Level.WARN, (Reason.PROJECTED_BREACH,), 30.4)) == (
            "预计 30 分钟后未达标",
            "warn",
        )


def test_the_board_s_escape_is_html_escape():
    import html

    from vendors.views.board import escape_fast

    for text in ("", "plain", "a & b", "&amp;", "<script>'x'</script>", '"q"', "中文 & <b>"):
        assert escape_fast(text) == html.escape(text)
