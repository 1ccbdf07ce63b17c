"""A vendor token's snapshot post as three single SQL statements.

A vendor's systems may post hundreds of figures a second (issue 7 asks for
400 single posts/s). Through the ORM the post's lookups cost more than
everything else in it: building and compiling a query with select_related
over wide rows took 1.5-2.5 ms of CPU each on the 2-core bench machine,
against 0.1-0.2 ms for the same SQL sent directly. So the token path's three
statements are written here once, from the models' own metadata (tables,
columns, the unique constraint), and rows come back as model instances
through `Model.from_db`, exactly as the ORM would build them:

- the token by its secret's hash, when unrevoked and its vendor active;
- a queue of the token's vendor with its site (health needs the zone);
- the snapshot's INSERT, ON CONFLICT (queue, taken_at) DO NOTHING
  RETURNING id: one statement in autocommit (no BEGIN/COMMIT round trips),
  a conflict is the 409 without an IntegrityError to roll back.

Everything else (the figures' rules, health, trouble, the board's notice)
is the services' own code. tests/vendors/services/test_hotpath.py holds
these statements to the ORM's answers."""

from __future__ import annotations

from functools import cache

from django.db import connection

from vendors.models import Queue, QueueSnapshot, Site, Vendor, VendorToken

# The statements are built from model metadata (table and column names the
# code defines, quoted by the backend), never from input; values are
# parameters. Hence the noqa/nosec on each.


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(model, alias: str) -> str:
    return ", ".join(f"{alias}.{_q(f.column)}" for f in model._meta.concrete_fields)


def _attnames(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@cache
def _converters(model) -> list[tuple[int, list, object]]:
    """The ORM's converters for the model's columns (SQLCompiler.get_converters):
    e.g. SQLite's naive datetimes made aware."""
    out = []
    for i, field in enumerate(model._meta.concrete_fields):
        col = field.get_col(model._meta.db_table)
        convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if convs:
            out.append((i, convs, col))
    return out


def _instance(model, row):
    """The model instance for a row of its concrete columns, as the ORM
    builds it (converters, then Model.from_db)."""
    values = list(row)
    for i, convs, col in _converters(model):
        for convert in convs:
            values[i] = convert(values[i], col, connection)
    return model.from_db(connection.alias, _attnames(model), values)


@cache
def _token_sql() -> str:
    return (
        f"SELECT {_columns(VendorToken, 't')} FROM {_q(VendorToken._meta.db_table)} t "  # noqa: S608  # nosec B608
        f"JOIN {_q(Vendor._meta.db_table)} v ON v.id = t.{_q('vendor_id')} "
        f"WHERE t.{_q('key_hash')} = %s AND t.{_q('revoked_at')} IS NULL AND v.{_q('is_active')} "
        "LIMIT 1"
    )


def usable_token(key_hash: str) -> VendorToken | None:
    """The unrevoked token of an active vendor with this hash, else None."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [key_hash])
        row = cursor.fetchone()
    return None if row is None else _instance(VendorToken, row)


@cache
def _queue_sql() -> str:
    return (
        f"SELECT {_columns(Queue, 'q')}, {_columns(Site, 's')} "  # noqa: S608  # nosec B608
        f"FROM {_q(Queue._meta.db_table)} q "
        f"LEFT JOIN {_q(Site._meta.db_table)} s ON s.id = q.{_q('site_id')} "
        f"WHERE q.id = %s AND q.{_q('vendor_id')} = %s"
    )


def vendor_queue(queue_id: int, vendor_id: int) -> Queue | None:
    """The vendor's queue with its site loaded (None for a queue of
    another vendor or none at all: the same answer)."""
    with connection.cursor() as cursor:
        cursor.execute(_queue_sql(), [queue_id, vendor_id])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(Queue._meta.concrete_fields)
    queue = _instance(Queue, row[:split])
    site = None if queue.site_id is None else _instance(Site, row[split:])
    Queue.site.field.set_cached_value(queue, site)
    return queue


@cache
def _insert_sql() -> tuple[str, tuple]:
    fields = tuple(f for f in QueueSnapshot._meta.concrete_fields if not f.primary_key)
    (unique,) = [c for c in QueueSnapshot._meta.constraints if c.name == "snapshot_once_per_moment"]
    conflict = ", ".join(_q(QueueSnapshot._meta.get_field(n).column) for n in unique.fields)
    sql = (
        f"INSERT INTO {_q(QueueSnapshot._meta.db_table)} "  # noqa: S608  # nosec B608
        f"({', '.join(_q(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING id"
    )
    return sql, fields


def insert_snapshot(snapshot: QueueSnapshot) -> bool:
    """INSERT the unsaved snapshot; False (nothing written) when its queue
    already has figures for that moment. Sets its id and marks it saved."""
    sql, fields = _insert_sql()
    values = [f.get_db_prep_save(f.pre_save(snapshot, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    snapshot.id = row[0]
    snapshot._state.adding = False
    snapshot._state.db = connection.alias
    return True
