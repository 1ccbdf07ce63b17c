"""snapshots_import and parse_snapshot_file: all or nothing, a per-row
report, queue codes, duplicates, speed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tscc.exceptions import NotAllowed
from tscc.roles import Role
from vendors.models import QueueSnapshot
from vendors.services import (
    FileInvalid,
    parse_snapshot_file,
    queue_create,
    snapshot_post,
    snapshot_template_csv,
    snapshots_import,
    token_create,
)

pytestmark = pytest.mark.django_db


def hourly(queue_ref: dict, hours: int, **overrides) -> list[dict]:
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = []
    for h in range(hours):
        rows.append(
            {
                **queue_ref,
                "taken_at": (top - timedelta(hours=h)).isoformat(),
                "backlog": "40",
                "inflow_per_hour": "300",
                "outflow_per_hour": "310",
                "oldest_item_minutes": "10",
                "sla_attainment": "98.2",
                "staffed_headcount": "20",
                **overrides,
            }
        )
    return rows


def test_import_creates_every_row(lead, queue):
    result = snapshots_import(actor=lead, rows=hourly({"queue": "en-video"}, 48))
    assert result.ok and result.created == 48
    assert result.queue_ids == [queue.id]
    assert QueueSnapshot.objects.filter(queue=queue, source="upload").count() == 48


def test_one_bad_row_writes_nothing_and_reports_every_problem(lead, queue):
    rows = hourly({"queue_id": queue.id}, 5)
    rows[1]["backlog"] = "-4"
    rows[3]["sla_attainment"] = "104"
    rows[3]["taken_at"] = "not a time"
    rows.append({**rows[0]})  # repeats row 1
    result = snapshots_import(actor=lead, rows=rows)
    assert not result.ok and result.created == 0
    assert [(e.row, e.field) for e in result.errors] == [
        (2, "backlog"),
        (4, "sla_attainment"),
        (4, "taken_at"),
        (6, "taken_at"),
    ]
    assert "row 1" in result.errors[-1].message
    assert not QueueSnapshot.objects.exists()


def test_rows_that_repeat_stored_figures_are_reported(lead, queue, healthy):
    rows = hourly({"queue": "en-video"}, 3)
    snapshot_post(actor=lead, queue_id=queue.id, fields={**rows[2], "queue": None})
    result = snapshots_import(actor=lead, rows=rows)
    assert [(e.row, e.field) for e in result.errors] == [(3, "taken_at")]
    assert QueueSnapshot.objects.count() == 1


def test_other_vendors_queues_are_unknown_rows(lead, queue, other_queue):
    rows = hourly({"queue_id": other_queue.id}, 1) + hourly({"queue": "nope"}, 1)
    result = snapshots_import(actor=lead, rows=rows)
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (1, "queue_id", "No such queue."),
        (2, "queue", "No such queue."),
    ]


def test_shared_codes_need_the_vendor_column_for_a_manager(manager, queue, other_queue):
    result = snapshots_import(actor=manager, rows=hourly({"queue": "en-video"}, 1))
    assert "vendor" in result.errors[0].message
    result = snapshots_import(
        actor=manager, rows=hourly({"queue": "en-video", "vendor": "straits"}, 2)
    )
    assert result.ok
    assert set(QueueSnapshot.objects.values_list("queue_id", flat=True)) == {other_queue.id}


def test_token_imports_for_its_vendor(manager, vendor, queue, other_queue):
    token, _secret = token_create(actor=manager, vendor_id=vendor.id, name="feed")
    result = snapshots_import(actor=token, rows=hourly({"queue": "en-video"}, 2))
    assert result.ok
    assert set(QueueSnapshot.objects.values_list("queue_id", "source")) == {(queue.id, "token")}


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.EXECUTIVE, Role.BPO_LEAD])
def test_people_who_report_for_nothing_are_refused(make_user, queue, role):
    with pytest.raises(NotAllowed):
        snapshots_import(actor=make_user(role), rows=hourly({"queue": "en-video"}, 1))


def test_empty_import_is_an_error(lead, queue):
    assert not snapshots_import(actor=lead, rows=[]).ok


def test_ten_thousand_rows_import_in_batches(manager, vendor, site, django_assert_max_num_queries):
    queues = [
        queue_create(
            actor=manager, vendor_id=vendor.id, code=f"q{i}", name=f"Q{i}", planned_headcount=20
        )
        for i in range(60)
    ]
    rows = []
    for queue in queues:
        rows += hourly({"queue_id": str(queue.id)}, 167)  # a week, less an hour
    rows = rows[:10_000]
    # Lookups and checks take a handful of queries; the insert goes in
    # batches (SQLite: 999 parameters per statement, so ~60 rows each).
    # Its speed is measured by bench/vendors.py, not here.
    with django_assert_max_num_queries(10 + 10_000 // 50):
        result = snapshots_import(actor=manager, rows=rows)
    assert result.ok, result.errors[:3]
    assert QueueSnapshot.objects.count() == 10_000


# --- files ------------------------------------------------------------------------


def csv_file(text: str, name: str = "figures.csv", bom: bool = False) -> SimpleUploadedFile:
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.parametrize("bom", [False, True])
def test_csv_with_or_without_bom_round_trips(lead, queue, bom):
    now = timezone.now().replace(second=0, microsecond=0)
    text = (
        "Queue,taken_at,backlog,inflow_per_hour,outflow_per_hour,oldest_item_minutes,"
        "sla_attainment,staffed_headcount,qa_accuracy\n"
        f"en-video,{now.isoformat()},40,300,310,10,98.2,20,97.5\n"
        "\n"
        f'en-video,{(now - timedelta(hours=1)).isoformat()},41,"1,300",310,10,98.0,19,\n'
    )
    rows = parse_snapshot_file(csv_file(text, bom=bom))
    assert len(rows) == 2 and rows[0]["queue"] == "en-video"
    result = snapshots_import(actor=lead, rows=rows)
    assert result.ok, result.errors
    assert QueueSnapshot.objects.get(taken_at=now).qa_accuracy == 97.5


def test_semicolon_csv_is_read(lead, queue):
    header = snapshot_template_csv().strip().replace(",", ";")
    rows = parse_snapshot_file(csv_file(header + "\n" + ";".join(["en-video"] + [""] * 11)))
    assert rows[0]["queue"] == "en-video"


@pytest.mark.parametrize(
    "text,name,needle",
    [
        ("queue,taken_at,backlog,bogus\n", "f.csv", "bogus"),
        ("queue,taken_at\n", "f.csv", "backlog"),
        ("", "f.csv", "empty"),
        ("x", "f.xlsx", "Excel"),
        ("x", "f.xls", ".xlsx"),
    ],
)
def test_unreadable_files_say_why(text, name, needle):
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(csv_file(text, name=name))
    assert needle in error.value.message


def test_non_utf8_file_is_refused():
    upload = SimpleUploadedFile("f.csv", "queue,taken_at\n队列".encode("gb18030"))
    with pytest.raises(FileInvalid):
        parse_snapshot_file(upload)
