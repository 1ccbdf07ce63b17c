"""parse_snapshot_file for XLSX (built here with openpyxl), the size and row
limits, the time_zone column and the downloadable templates."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from vendors.models import QueueSnapshot
from vendors.services import (
    CSV_COLUMNS,
    FileInvalid,
    parse_snapshot_file,
    snapshot_template_csv,
    snapshot_template_xlsx,
    snapshots_import,
)
from vendors.services.snapshots import MAX_FILE_ROWS

pytestmark = pytest.mark.django_db

HEADER = [
    "queue",
    "taken_at",
    "backlog",
    "inflow_per_hour",
    "outflow_per_hour",
    "oldest_item_minutes",
    "sla_attainment",
    "staffed_headcount",
]


def xlsx(rows: list[list], name: str = "figures.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def test_xlsx_with_date_cells_and_iso_text_imports(lead, queue):
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    manila = top.astimezone(ZoneInfo("Asia/Manila"))
    rows = parse_snapshot_file(
        xlsx(
            [
                [*HEADER, "time_zone", "qa_accuracy"],
                # A date cell (Excel keeps no zone): read in the row's time_zone.
                [
                    "en-video",
                    manila.replace(tzinfo=None),
                    40,
                    300,
                    310.0,
                    10,
                    98.2,
                    20,
                    "Asia/Manila",
                    97.5,
                ],
                [],
                [
                    "en-video",
                    (top - timedelta(hours=1)).isoformat(),
                    41,
                    300,
                    310,
                    10.5,
                    98,
                    19,
                    None,
                    None,
                ],
            ]
        )
    )
    assert len(rows) == 2
    assert rows[0]["backlog"] == "40" and rows[0]["outflow_per_hour"] == "310"
    result = snapshots_import(actor=lead, rows=rows)
    assert result.ok, result.errors
    first = QueueSnapshot.objects.get(taken_at=top)
    assert first.qa_accuracy == 97.5 and first.backlog == 40
    assert QueueSnapshot.objects.get(taken_at=top - timedelta(hours=1)).oldest_item_minutes == 10.5


def test_a_date_cell_without_a_zone_is_a_row_error(lead, queue):
    naive = timezone.now().replace(minute=0, second=0, microsecond=0, tzinfo=None)
    rows = parse_snapshot_file(xlsx([HEADER, ["en-video", naive, 40, 300, 310, 10, 98.2, 20]]))
    result = snapshots_import(actor=lead, rows=rows)
    assert [(e.row, e.field) for e in result.errors] == [(1, "taken_at")]
    assert "UTC offset" in result.errors[0].message
    assert not QueueSnapshot.objects.exists()


def test_xlsx_header_is_checked():
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(xlsx([["queue", "taken_at", "bogus"]]))
    assert "bogus" in error.value.message and "backlog" in error.value.message
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(xlsx([]))
    assert "empty" in error.value.message


def cut_sheet(data: bytes) -> bytes:
    """The workbook with its sheet's XML cut in half."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                part = part[: len(part) // 2]
            target.writestr(item, part)
    return out.getvalue()


def test_a_corrupt_xlsx_is_refused():
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(SimpleUploadedFile("f.xlsx", b"PK\x03\x04 not really a zip"))
    assert "Excel" in error.value.message
    rows = [HEADER, *([["en-video", "2026-12-01T09:00+08:00", 1, 1, 1, 1, 99, 1]] * 200)]
    broken = cut_sheet(xlsx(rows).read())
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(SimpleUploadedFile("f.xlsx", broken))
    assert "Excel" in error.value.message


def test_files_over_5_mb_are_refused():
    big = SimpleUploadedFile("f.csv", b"queue\n" + b"x" * (5 * 1024 * 1024))
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(big)
    assert "5 MB" in error.value.message


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_files_over_20000_rows_are_refused(kind):
    line = ["en-video", "2026-12-01T09:00+08:00", 1, 1, 1, 1, 99, 1]
    if kind == "csv":
        text = ",".join(HEADER) + "\n" + (",".join(map(str, line)) + "\n") * (MAX_FILE_ROWS + 1)
        upload = SimpleUploadedFile("f.csv", text.encode())
    else:
        upload = xlsx([HEADER, *([line] * (MAX_FILE_ROWS + 1))])
    with pytest.raises(FileInvalid) as error:
        parse_snapshot_file(upload)
    assert "20,000" in error.value.message


def test_templates_round_trip(lead, queue):
    assert snapshot_template_csv() == ",".join(CSV_COLUMNS) + "\n"
    prefilled = [{"queue": "en-video", "vendor": "luzon", "time_zone": "Asia/Manila"}]
    csv_text = snapshot_template_csv(prefilled)
    assert csv_text.splitlines()[1].startswith("en-video,luzon,")
    assert csv_text.splitlines()[1].endswith(",Asia/Manila")
    data = snapshot_template_xlsx(prefilled)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["queue", "vendor", "taken_at"]
    assert sheet.cell(row=2, column=1).value == "en-video"
    # The blank template reads back as a header with one row and no figures.
    rows = parse_snapshot_file(SimpleUploadedFile("t.xlsx", data))
    assert rows == [{**dict.fromkeys(CSV_COLUMNS, ""), "queue": "en-video", "vendor": "luzon"}]
