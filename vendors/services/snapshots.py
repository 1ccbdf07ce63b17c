"""Queue snapshots: one at a time (the portal form, the API) or many at once
(a CSV upload, the bulk API), all or nothing.

Every figure goes through one cleaner (`clean_figures`), whether it comes as
a number from a form or as text from a file, so the rules and messages are
the same everywhere:

- counts (backlog, headcounts, escalations) are whole numbers >= 0;
- rates, minutes and seconds are numbers >= 0;
- percents (sla_attainment, qa_accuracy) are 0-100;
- taken_at is an aware datetime or ISO 8601 text with a UTC offset
  ("2026-12-01T09:00+08:00", "2026-12-01T01:00Z"), cut to the minute, at
  most 5 minutes in the future and at most 7 days old;
- planned_headcount defaults to the queue's.

After commit, the queues whose figures arrived are checked for trouble
(vendors.services.trouble)."""

from __future__ import annotations

import csv
import io
import logging
import math
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tscc.exceptions import InvalidInput, NotAllowed
from tscc.roles import Role
from vendors.domain.health import MAX_SNAPSHOT_AGE
from vendors.exceptions import DuplicateSnapshot, NotFound
from vendors.models import Queue, QueueSnapshot, Vendor
from vendors.realtime import board_changed_on_commit
from vendors.services import hotpath
from vendors.services.common import (
    NOT_FOUND,
    Actor,
    ensure_can_report,
    get_visible,
    is_token,
    visible,
)

logger = logging.getLogger(__name__)

FUTURE_SKEW = timedelta(minutes=5)
MAX_AGE = MAX_SNAPSHOT_AGE
MAX_IMPORT_ROWS = 50_000

COUNTS = ("backlog", "staffed_headcount")
NUMBERS = ("inflow_per_hour", "outflow_per_hour", "oldest_item_minutes")
PERCENTS = ("sla_attainment",)
REQUIRED = ("taken_at", *COUNTS, *NUMBERS, *PERCENTS)
OPTIONAL_COUNTS = ("planned_headcount", "escalations")
OPTIONAL_NUMBERS = ("aht_seconds",)
OPTIONAL_PERCENTS = ("qa_accuracy",)
FIGURE_FIELDS = (*REQUIRED, *OPTIONAL_COUNTS, *OPTIONAL_NUMBERS, *OPTIONAL_PERCENTS)
# Columns that name the queue in a file or bulk row.
QUEUE_COLUMNS = ("queue_id", "queue", "vendor")

# The CSV header, in this order when we write a template; any order is read.
CSV_COLUMNS = ("queue", "vendor", *FIGURE_FIELDS)


@dataclass(frozen=True)
class RowError:
    """One problem in an import: the 1-based row (for a file, the Nth data
    row after the header, blank lines skipped; 0 for the import as a
    whole), the field ("queue", "queue_id", a figure, or "row") and a
    message for people."""

    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportResult:
    """What an import did: `created` rows, or none and the `errors`."""

    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    queue_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- cleaning ----------------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value, *, whole: bool) -> float | int:
    """A finite number from a number or text; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        number = float(text)
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError
    if not math.isfinite(number):
        raise ValueError
    if whole:
        if number != int(number):
            raise ValueError
        return int(number)
    return number


def parse_taken_at(value) -> datetime:
    """An aware UTC datetime, cut to the minute; ValueError when the value
    is not a datetime with a UTC offset."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    elif isinstance(value, datetime):
        moment = value
    else:
        raise ValueError
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def clean_figures(
    raw: Mapping[str, Any], *, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """The snapshot fields of `raw`, converted and checked, and the errors
    by field. Keys it does not know are ignored (the caller names the queue)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in REQUIRED:
        if _blank(raw.get(name)):
            errors[name] = _("Required.")
    value = raw.get("taken_at")
    if "taken_at" not in errors:
        try:
            moment = parse_taken_at(value)
        except (ValueError, TypeError):
            errors["taken_at"] = _(
                "Give a date and time with its UTC offset, e.g. 2026-12-01T09:00+08:00."
            )
        else:
            if moment > now + FUTURE_SKEW:
                errors["taken_at"] = _("Cannot be more than 5 minutes in the future.")
            elif moment < now - MAX_AGE:
                errors["taken_at"] = _("Cannot be more than 7 days old.")
            else:
                values["taken_at"] = moment
    for names, whole, top in (
        (COUNTS + OPTIONAL_COUNTS, True, None),
        (NUMBERS + OPTIONAL_NUMBERS, False, None),
        (PERCENTS + OPTIONAL_PERCENTS, False, 100.0),
    ):
        for name in names:
            if name in errors:
                continue
            value = raw.get(name)
            if _blank(value):
                continue
            try:
                number = _number(value, whole=whole)
            except (ValueError, TypeError):
                errors[name] = _("A whole number.") if whole else _("A number.")
                continue
            if number < 0:
                errors[name] = _("Cannot be negative.")
            elif top is not None and number > top:
                errors[name] = _("A percentage from 0 to 100.")
            else:
                values[name] = number
    return values, errors


def _build(queue: Queue, values: dict[str, Any], *, actor: Actor, source: str, now):
    values = dict(values)
    values.setdefault("planned_headcount", queue.planned_headcount)
    return QueueSnapshot(
        queue=queue,
        reported_by=None if is_token(actor) else actor,
        source=source,
        created_at=now,
        **values,
    )


def _default_source(actor: Actor, source: str | None, default: str) -> str:
    if is_token(actor):
        return QueueSnapshot.Source.TOKEN
    if source is None:
        return default
    if source not in QueueSnapshot.Source.values:
        raise InvalidInput(_("Unknown source."), fields={"source": _("Unknown source.")})
    return source


def _evaluate_after_commit(queue_ids: Iterable[int]) -> None:
    ids = sorted(set(queue_ids))

    def evaluate() -> None:
        from vendors.services.trouble import queues_trouble_evaluate

        queues_trouble_evaluate(queue_ids=ids)

    # robust: trouble checking that fails (logged) must not fail the
    # committed figures; the stale sweep and the next post check again.
    transaction.on_commit(evaluate, robust=True)


# --- one snapshot -----------------------------------------------------------


def snapshot_post(
    *,
    actor: Actor,
    queue_id: int,
    fields: Mapping[str, Any],
    source: str | None = None,
) -> QueueSnapshot:
    """Record one snapshot of a queue's figures (see the module docstring
    for the rules). `actor` is a user (a lead of the queue's vendor, an
    ops manager or an admin) or a VendorToken of the queue's vendor.

    Raises NotFound for a queue the actor may not see, NotAllowed when
    they may see but not report, InvalidInput with field errors, and
    DuplicateSnapshot (409) when figures for that queue and minute exist.
    Figures that breach (or project a breach) check the queue for trouble
    after commit."""
    if is_token(actor):
        return _token_post(actor, queue_id, fields)
    return _person_post(actor, queue_id, fields, source)


@transaction.atomic
def _person_post(actor, queue_id, fields, source) -> QueueSnapshot:
    queue = get_visible(actor, Queue, queue_id)
    ensure_can_report(actor, queue.vendor)
    source = _default_source(actor, source, QueueSnapshot.Source.PORTAL)
    now = timezone.now()
    snapshot = _checked(queue, fields, actor=actor, source=source, now=now)
    try:
        # The unique (queue, taken_at) constraint decides; nothing else is
        # written in this transaction, so it simply rolls back.
        snapshot.save(force_insert=True)
    except IntegrityError:
        raise _duplicate(snapshot) from None
    _posted(queue, snapshot, now)
    return snapshot


def _token_post(token, queue_id, fields) -> QueueSnapshot:
    """A vendor's systems: the same rules through single SQL statements
    (vendors.services.hotpath), the insert in autocommit."""
    try:
        queue_id = int(queue_id)
    except (TypeError, ValueError):
        raise NotFound(str(NOT_FOUND["queue"])) from None
    queue = None
    if token.revoked_at is None:
        queue = hotpath.vendor_queue(queue_id, token.vendor_id)
    if queue is None:
        raise NotFound(str(NOT_FOUND["queue"]))
    now = timezone.now()
    snapshot = _checked(queue, fields, actor=token, source=QueueSnapshot.Source.TOKEN, now=now)
    if not hotpath.insert_snapshot(snapshot):
        raise _duplicate(snapshot)
    _posted(queue, snapshot, now)
    return snapshot


def _checked(queue: Queue, fields, *, actor: Actor, source: str, now) -> QueueSnapshot:
    """The unsaved snapshot of cleaned figures, or InvalidInput."""
    if not queue.is_active:
        raise InvalidInput(_("This queue is closed."), fields={"queue": _("Not active.")})
    values, errors = clean_figures(fields, now=now)
    if errors:
        raise InvalidInput(_("Check the figures."), fields=errors)
    return _build(queue, values, actor=actor, source=source, now=now)


def _duplicate(snapshot: QueueSnapshot) -> DuplicateSnapshot:
    return DuplicateSnapshot(
        _("Figures for this queue at %(time)s were already posted.")
        % {"time": snapshot.taken_at.strftime("%Y-%m-%d %H:%M UTC")},
        fields={"taken_at": _("Already posted for this time.")},
    )


def _posted(queue: Queue, snapshot: QueueSnapshot, now) -> None:
    # Healthy figures need no trouble check (pure, no query): were newer
    # figures troubled, their own post checked them. The check after commit
    # reads the queue's latest figures, whichever they are.
    from vendors.selectors import health_of

    if health_of(queue, snapshot, now).is_trouble:
        _evaluate_after_commit([queue.id])
    board_changed_on_commit()


# --- many snapshots ---------------------------------------------------------


class _QueueIndex:
    """Resolves a row's queue (by id, or by code and optional vendor code)
    among the queues the actor may report for, loaded in one query."""

    def __init__(self, actor: Actor):
        qs = visible(actor, Queue).select_related("vendor")
        if not is_token(actor) and not actor.has_perm("vendors.manage"):
            qs = qs.filter(id__in=reportable_queue_ids(actor))
        self.by_id: dict[int, Queue] = {}
        self.by_code: dict[str, list[Queue]] = {}
        for queue in qs:
            self.by_id[queue.id] = queue
            self.by_code.setdefault(queue.code.lower(), []).append(queue)

    def resolve(self, row: Mapping[str, Any]) -> tuple[Queue | None, str | None]:
        queue_id = row.get("queue_id")
        if not _blank(queue_id):
            try:
                queue = self.by_id.get(int(str(queue_id).strip()))
            except ValueError:
                queue = None
            return (queue, None) if queue else (None, _("No such queue."))
        code = row.get("queue")
        if _blank(code):
            return None, _("Name the queue (queue code or queue_id).")
        code = str(code).strip()
        if code.isdigit() and code.lower() not in self.by_code:
            queue = self.by_id.get(int(code))
            return (queue, None) if queue else (None, _("No such queue."))
        candidates = self.by_code.get(code.lower(), [])
        vendor = row.get("vendor")
        if not _blank(vendor):
            vendor = str(vendor).strip().lower()
            candidates = [q for q in candidates if q.vendor.code.lower() == vendor]
        if not candidates:
            return None, _("No such queue.")
        if len(candidates) > 1:
            return None, _("Several vendors have a queue with this code: add the vendor column.")
        return candidates[0], None


def snapshots_import(
    *,
    actor: Actor,
    rows: list[Mapping[str, Any]],
    source: str | None = None,
) -> ImportResult:
    """Record many snapshots at once, all or nothing: when any row is wrong,
    nothing is written and the result lists every problem (row, field,
    message). Rows name their queue by `queue_id`, or by `queue` (the
    queue's code) with `vendor` (the vendor's code) when the actor reports
    for several vendors; the figure fields are those of snapshot_post.

    Rows for queues the actor may not report for are "no such queue"
    errors (nothing is said about other vendors). A row whose queue and
    minute repeat an earlier row or a stored snapshot is an error too.
    Raises NotAllowed only when the actor may report for no vendor at
    all. Validates in Python, then writes with one bulk insert; checks the
    queues for trouble after commit."""
    source = _default_source(actor, source, QueueSnapshot.Source.UPLOAD)
    if not rows:
        return ImportResult(errors=[RowError(0, "row", _("The file has no rows."))])
    if len(rows) > MAX_IMPORT_ROWS:
        message = _("At most %(max)d rows at once.") % {"max": MAX_IMPORT_ROWS}
        return ImportResult(errors=[RowError(0, "row", message)])
    now = timezone.now()
    index = _QueueIndex(actor)
    if not index.by_id:
        raise NotAllowed(_("You report for no queue."))
    errors: list[RowError] = []
    built: list[tuple[int, int, dict[str, Any]]] = []
    seen: dict[tuple[int, datetime], int] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            errors.append(RowError(number, "row", _("Each row is an object of fields.")))
            continue
        queue, problem = index.resolve(row)
        if problem:
            field_name = "queue_id" if not _blank(row.get("queue_id")) else "queue"
            errors.append(RowError(number, field_name, problem))
        elif not queue.is_active:
            errors.append(RowError(number, "queue", _("This queue is closed.")))
            queue = None
        values, field_errors = clean_figures(row, now=now)
        errors.extend(RowError(number, name, msg) for name, msg in field_errors.items())
        if queue is None or field_errors:
            continue
        key = (queue.id, values["taken_at"])
        if key in seen:
            errors.append(
                RowError(
                    number,
                    "taken_at",
                    _("Repeats row %(row)d (same queue and time).") % {"row": seen[key]},
                )
            )
            continue
        seen[key] = number
        values.setdefault("planned_headcount", queue.planned_headcount)
        built.append((number, queue.id, values))
    errors.extend(_stored_duplicates(built))
    if errors:
        errors.sort(key=lambda e: (e.row, e.field))
        return ImportResult(errors=errors)
    queue_ids = sorted({queue_id for _n, queue_id, _v in built})
    reported_by = None if is_token(actor) else actor.pk
    try:
        with transaction.atomic():
            _insert((queue_id, values, reported_by, source, now) for _n, queue_id, values in built)
            _evaluate_after_commit(queue_ids)
            board_changed_on_commit()
    except IntegrityError:  # a concurrent import stored one of these first
        return ImportResult(
            errors=[RowError(0, "taken_at", _("Some of these figures were just posted; retry."))]
        )
    logger.info("vendors: imported %d snapshots for %d queues", len(built), len(queue_ids))
    return ImportResult(created=len(built), queue_ids=queue_ids)


def _stored_duplicates(built: list[tuple[int, int, dict[str, Any]]]) -> list[RowError]:
    """Rows that repeat a stored snapshot (one query per 500 queues)."""
    if not built:
        return []
    moments = [values["taken_at"] for _n, _q, values in built]
    start, end = min(moments), max(moments)
    queue_ids = sorted({queue_id for _n, queue_id, _v in built})
    stored: set[tuple[int, datetime]] = set()
    for i in range(0, len(queue_ids), 500):
        stored.update(
            QueueSnapshot.objects.filter(
                queue_id__in=queue_ids[i : i + 500], taken_at__gte=start, taken_at__lte=end
            ).values_list("queue_id", "taken_at")
        )
    message = _("Figures for this queue at this time were already posted.")
    return [
        RowError(number, "taken_at", message)
        for number, queue_id, values in built
        if (queue_id, values["taken_at"]) in stored
    ]


def _insert(rows: Iterable[tuple[int, dict[str, Any], int | None, str, datetime]]) -> int:
    """Insert snapshots as multi-row INSERTs of plain values, skipping model
    instances and the ORM's per-value compilation (5x faster for 10,000
    rows). Values are already clean; datetimes are adapted by the backend."""
    meta = QueueSnapshot._meta
    names = ("queue", *FIGURE_FIELDS, "reported_by", "source", "created_at")
    columns = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in names)
    adapt = connection.ops.adapt_datetimefield_value
    per_statement = max(1, (connection.features.max_query_params or 30000) // len(names))
    table = connection.ops.quote_name(meta.db_table)
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    batch: list = []
    count = 0

    def flush() -> None:
        if not batch:
            return
        params = [value for row in batch for value in row]
        # Names come from the model; every value is a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}"  # noqa: S608  # nosec B608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        batch.clear()

    for queue_id, values, reported_by, source, created_at in rows:
        row = [queue_id]
        for name in FIGURE_FIELDS:
            value = values.get(name)
            row.append(adapt(value) if name == "taken_at" else value)
        row += [reported_by, source, adapt(created_at)]
        batch.append(row)
        count += 1
        if len(batch) >= per_statement:
            flush()
    flush()
    return count


# --- files -------------------------------------------------------------------


class FileInvalid(InvalidInput):
    """The upload is not a snapshot file we can read."""


MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = MAX_UPLOAD_BYTES
MAX_FILE_ROWS = 20_000
# An optional file column: the IANA zone of taken_at values that carry no
# UTC offset (Excel date cells never do). The templates fill it per queue.
TIME_ZONE_COLUMN = "time_zone"
FILE_COLUMNS = (*CSV_COLUMNS, TIME_ZONE_COLUMN)
XLSX_TYPES = (".xlsx", ".xlsm")
# What openpyxl raises for a damaged workbook (XML parse errors are SyntaxErrors).
BROKEN_XLSX = (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, EOFError, SyntaxError)


def _too_large() -> FileInvalid:
    return FileInvalid(
        _("The file is too large (at most 5 MB): split it into several files."),
        fields={"file": _("Too large.")},
    )


def _too_many_rows() -> FileInvalid:
    message = _("The file has more than %(max)s rows: split it into several files.") % {
        "max": f"{MAX_FILE_ROWS:,}"
    }
    return FileInvalid(message, fields={"file": _("Too many rows.")})


def _check_header(header: Iterable[Any]) -> list[str]:
    """The lower-cased column names of a header row; FileInvalid for
    unknown or missing columns."""
    columns = ["" if c is None else str(c).strip().lower() for c in header]
    known = set(FIGURE_FIELDS) | set(QUEUE_COLUMNS) | {TIME_ZONE_COLUMN}
    unknown = [c for c in columns if c and c not in known]
    missing = [c for c in REQUIRED if c not in columns]
    if not ({"queue", "queue_id"} & set(columns)):
        missing.insert(0, "queue")
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
        if missing:
            parts.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
        raise FileInvalid(
            _("Check the header row: %(problems)s.") % {"problems": "; ".join(parts)},
            fields={"file": "; ".join(parts)},
        )
    return columns


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _localize(row: dict[str, str]) -> dict[str, str]:
    """Give an offset-less taken_at the row's time_zone (when it has one)."""
    zone = (row.pop(TIME_ZONE_COLUMN, "") or "").strip()
    text = (row.get("taken_at") or "").strip()
    if not zone or not text:
        return row
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
        tz = ZoneInfo(zone)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return row  # the import reports the time (a bad zone leaves it naive)
    if moment.tzinfo is None:
        row["taken_at"] = moment.replace(tzinfo=tz).isoformat()
    return row


def _csv_rows(data) -> tuple[list[str], Iterable[list[str]]]:
    if isinstance(data, str):
        text = data.lstrip("\ufeff")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileInvalid(
                _("The file is not UTF-8 text. Save it as CSV (UTF-8)."),
                fields={"file": _("Not UTF-8.")},
            ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileInvalid(_("The file is empty."), fields={"file": _("Empty.")}) from None
    return header, reader


def _xlsx_rows(data: bytes) -> tuple[list, Iterable[list[str]]]:
    """The first sheet's header and rows (cells as text) of an XLSX file."""
    from openpyxl import load_workbook

    unreadable = FileInvalid(
        _("This is not an Excel workbook we can read (.xlsx). Save it as .xlsx or CSV (UTF-8)."),
        fields={"file": _("Not a readable Excel file.")},
    )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except BROKEN_XLSX:
        raise unreadable from None
    if not workbook.worksheets:
        raise FileInvalid(_("The file is empty."), fields={"file": _("Empty.")})
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = next(rows, None)
    except BROKEN_XLSX:
        workbook.close()
        raise unreadable from None
    if header is None or not any(c is not None and str(c).strip() for c in header):
        workbook.close()
        raise FileInvalid(_("The file is empty."), fields={"file": _("Empty.")})

    def cells():
        try:
            for values in rows:
                yield [_cell_text(v) for v in values]
        except BROKEN_XLSX:
            raise unreadable from None  # a sheet broken past its first row
        finally:
            workbook.close()

    return list(header), cells()


def parse_snapshot_file(uploaded_file) -> list[dict[str, str]]:
    """The rows of an uploaded snapshot file, as dicts of text by column.

    CSV (UTF-8, with or without a byte-order mark; comma, semicolon or tab
    separated, detected from the header) or XLSX (the first sheet; read
    with openpyxl, formulas as their cached values). At most 5 MB and
    20,000 data rows. The header names the columns, in any order,
    case-insensitive:

        queue       the queue's code (or use queue_id)
        queue_id    the queue's id
        vendor      the vendor's code; needed only when the actor reports
                    for several vendors that share a queue code
        taken_at    ISO 8601 with UTC offset, e.g. 2026-12-01T09:00+08:00,
                    or (XLSX) a date cell
        time_zone   optional: the IANA zone (Asia/Manila) of taken_at
                    values without an offset, such as Excel date cells
        backlog, inflow_per_hour, outflow_per_hour, oldest_item_minutes,
        sla_attainment, staffed_headcount            (required)
        planned_headcount, aht_seconds, qa_accuracy, escalations  (optional)

    Unknown columns are refused (a typo would silently drop a figure).
    Raises FileInvalid for unreadable, too large or too long files."""
    name = (getattr(uploaded_file, "name", "") or "").lower()
    if name.endswith(".xls"):
        raise FileInvalid(
            _("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV (UTF-8)."),
            fields={"file": _("Upload a CSV or XLSX file.")},
        )
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _too_large()
    data = uploaded_file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    is_xlsx = name.endswith(XLSX_TYPES) or (isinstance(data, bytes) and data[:2] == b"PK")
    header, cells = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    columns = _check_header(header)
    rows = []
    for values in cells:
        if not any(c.strip() for c in values):
            continue
        if len(rows) >= MAX_FILE_ROWS:
            raise _too_many_rows()
        row = {col: cell for col, cell in zip(columns, values, strict=False) if col}
        rows.append(_localize(row) if TIME_ZONE_COLUMN in row else row)
    return rows


def snapshot_template_csv(rows: Iterable[Mapping[str, Any]] = ()) -> str:
    """A snapshot CSV for a "download template" link: the header line, and
    one line per given row (e.g. {"queue", "vendor", "time_zone"} per
    queue the person reports for)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if not rows:
        writer.writerow(CSV_COLUMNS)
        return out.getvalue()
    writer.writerow(FILE_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in FILE_COLUMNS])
    return out.getvalue()


def snapshot_template_xlsx(rows: Iterable[Mapping[str, Any]] = ()) -> bytes:
    """The XLSX template: a header row (bold, frozen) and one row per given
    row, taken_at formatted as a date cell, in its time_zone column's zone."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "snapshots"
    sheet.append(list(FILE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    taken_at = FILE_COLUMNS.index("taken_at") + 1
    for row in rows:
        sheet.append([row.get(c) for c in FILE_COLUMNS])
        sheet.cell(row=sheet.max_row, column=taken_at).number_format = "yyyy-mm-dd hh:mm"
    for index, column in enumerate(FILE_COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, len(column) + 2
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def reportable_queue_ids(user):
    """A subquery of the ids of queues a person who does not manage vendors
    may report for: those of vendors they lead, with the BPO lead role
    (the row form of the vendors.report rule)."""
    from vendors.selectors import member_vendor_ids

    if not user.is_authenticated or not user.is_active or user.role != Role.BPO_LEAD:
        return Queue.objects.none().values("id")
    return Queue.objects.filter(vendor_id__in=member_vendor_ids(user, leads_only=True)).values("id")


def reportable_vendors(actor: Actor) -> list[Vendor]:
    """Active vendors the actor may report for (forms and upload pages)."""
    vendors = visible(actor, Vendor).filter(is_active=True)
    if not is_token(actor) and not actor.has_perm("vendors.manage"):
        from vendors.selectors import member_vendor_ids

        if actor.role != Role.BPO_LEAD:
            return []
        vendors = vendors.filter(id__in=member_vendor_ids(actor, leads_only=True))
    return list(vendors)
