"""Selectors apply the permission filter: a BPO lead sees only their
vendor's rows, everywhere; list queries do not grow with rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tscc.roles import Role
from vendors import selectors
from vendors.domain.health import Level
from vendors.models import QueueSnapshot
from vendors.services import queue_create, site_status_change, snapshot_post, snapshots_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures_both(manager, queue, other_queue, healthy):
    snapshot_post(actor=manager, queue_id=queue.id, fields=healthy())
    snapshot_post(actor=manager, queue_id=other_queue.id, fields=healthy(sla_attainment=90))
    site_status_change(actor=manager, site_id=other_queue.site_id, status="down", reason="x")
    site_status_change(actor=manager, site_id=queue.site_id, status="degraded", reason="y")


LISTS = [
    ("vendors_visible_to", "vendor_id", lambda row: row.id),
    ("sites_visible_to", "vendor_id", lambda row: row.vendor_id),
    ("queues_visible_to", "vendor_id", lambda row: row.vendor_id),
    ("snapshots_visible_to", "vendor_id", lambda row: row.queue.vendor_id),
    ("site_status_changes_visible_to", "vendor_id", lambda row: row.site.vendor_id),
    ("memberships_visible_to", "vendor_id", lambda row: row.vendor_id),
]


@pytest.mark.parametrize("name,_attr,vendor_of", LISTS)
def test_lead_sees_only_own_vendor(
    lead, vendor, other_vendor, figures_both, name, _attr, vendor_of
):
    rows = list(getattr(selectors, name)(lead))
    assert rows, f"{name} returned nothing for the lead"
    assert {vendor_of(r) for r in rows} == {vendor.id}


@pytest.mark.parametrize("name,_attr,vendor_of", LISTS[:5])
@pytest.mark.parametrize("role", [Role.OPS_MANAGER, Role.RESPONDER, Role.EXECUTIVE, Role.ADMIN])
def test_operations_and_executives_see_every_vendor(
    make_user, vendor, other_vendor, figures_both, name, _attr, vendor_of, role
):
    rows = list(getattr(selectors, name)(make_user(role)))
    assert {vendor_of(r) for r in rows} == {vendor.id, other_vendor.id}


@pytest.mark.parametrize("name,_attr,vendor_of", LISTS[:5])
def test_a_token_sees_only_its_vendor(
    manager, vendor, other_vendor, figures_both, name, _attr, vendor_of
):
    from vendors.services import token_create, token_revoke

    token, _secret = token_create(actor=manager, vendor_id=other_vendor.id, name="feed")
    rows = list(getattr(selectors, name)(token))
    assert rows and {vendor_of(r) for r in rows} == {other_vendor.id}
    token_revoke(actor=manager, token_id=token.id)
    token.refresh_from_db()
    assert not getattr(selectors, name)(token).exists()


def test_lead_without_membership_sees_nothing(make_user, figures_both):
    stranger = make_user(Role.BPO_LEAD)
    for name, _attr, _f in LISTS:
        assert not getattr(selectors, name)(stranger).exists()
    assert selectors.vendor_board(viewer=stranger, now=timezone.now()) == []


def test_single_lookups_hide_other_vendors(lead, vendor, site, queue, other_vendor, other_queue):
    assert selectors.vendor_for(lead, vendor.id) == vendor
    assert selectors.vendor_for(lead, other_vendor.id) is None
    assert selectors.site_for(lead, site.id) == site
    assert selectors.site_for(lead, other_queue.site_id) is None
    assert selectors.queue_for(lead, queue.id) == queue
    assert selectors.queue_for(lead, other_queue.id) is None
    now = timezone.now()
    assert (
        selectors.queue_history(
            viewer=lead, queue_id=other_queue.id, since=now - timedelta(days=1), until=now
        )
        is None
    )


def test_rules_match_the_selectors(lead, make_user, vendor, other_vendor):
    assert lead.has_perm("vendors.view_vendor", vendor)
    assert not lead.has_perm("vendors.view_vendor", other_vendor)
    assert lead.has_perm("vendors.report", vendor)
    assert not lead.has_perm("vendors.report", other_vendor)
    assert not lead.has_perm("vendors.manage")
    executive = make_user(Role.EXECUTIVE)
    assert executive.has_perm("vendors.view_vendor", other_vendor)
    assert not executive.has_perm("vendors.report", vendor)
    manager = make_user(Role.OPS_MANAGER)
    assert manager.has_perm("vendors.report", other_vendor) and manager.has_perm("vendors.manage")


def test_board_rows_health_and_series(manager, lead, vendor, other_vendor, figures_both):
    board = selectors.vendor_board(viewer=manager, now=timezone.now())
    by_code = {row.vendor.code: row for row in board}
    assert by_code["luzon"].health.level is Level.WARN  # its site is degraded
    straits = by_code["straits"]
    assert straits.health.level is Level.BREACH
    assert [q.health.level for q in straits.queues] == [Level.BREACH]
    [point] = straits.queues[0].series
    snapshot = QueueSnapshot.objects.get(queue=straits.queues[0].queue)
    # The moment comes back from epoch seconds: the same aware UTC datetime.
    assert point == (snapshot.taken_at, snapshot.sla_attainment, snapshot.backlog)
    assert point[0].utcoffset() == timedelta(0)
    assert [row.vendor.code for row in selectors.vendor_board(viewer=lead, now=timezone.now())] == [
        "luzon"
    ]


def test_board_queries_do_not_grow_with_rows(
    manager, vendor, other_vendor, site, django_assert_max_num_queries
):
    def grow(n):
        rows = []
        top = timezone.now().replace(minute=0, second=0, microsecond=0)
        for i in range(n):
            q = queue_create(actor=manager, vendor_id=vendor.id, code=f"g{n}-{i}", name=f"G{i}")
            rows += [
                {
                    "queue_id": q.id,
                    "taken_at": top - timedelta(hours=h),
                    "backlog": 1,
                    "inflow_per_hour": 1,
                    "outflow_per_hour": 1,
                    "oldest_item_minutes": 1,
                    "sla_attainment": 99,
                    "staffed_headcount": 1,
                }
                for h in range(3)
            ]
        assert snapshots_import(actor=manager, rows=rows).ok

    grow(1)
    with django_assert_max_num_queries(5):
        small = selectors.vendor_board(viewer=manager, now=timezone.now())
    grow(15)
    with django_assert_max_num_queries(5):
        large = selectors.vendor_board(viewer=manager, now=timezone.now())
    assert sum(len(r.queues) for r in large) > sum(len(r.queues) for r in small)


@pytest.mark.parametrize("name", [n for n, _a, _f in LISTS])
def test_list_selectors_are_one_query(lead, figures_both, django_assert_num_queries, name):
    with django_assert_num_queries(1):
        list(getattr(selectors, name)(lead))


def test_latest_snapshots_picks_the_newest(manager, queue, healthy):
    old = snapshot_post(
        actor=manager,
        queue_id=queue.id,
        fields=healthy(taken_at=timezone.now() - timedelta(hours=2)),
    )
    new = snapshot_post(actor=manager, queue_id=queue.id, fields=healthy())
    assert selectors.latest_snapshots([queue.id]) == {queue.id: new}
    assert old.id != new.id


def test_latest_snapshots_take_ids_or_a_queryset_in_one_query(
    manager, queue, other_queue, healthy, django_assert_num_queries
):
    from vendors.models import Queue

    now = timezone.now().replace(second=0, microsecond=0)
    for minutes in (90, 30, 60):
        snapshot_post(
            actor=manager,
            queue_id=queue.id,
            fields=healthy(taken_at=now - timedelta(minutes=minutes), backlog=minutes),
        )
    silent = queue_create(actor=manager, vendor_id=queue.vendor_id, code="quiet", name="Quiet")
    ids = [queue.id, other_queue.id, silent.id]
    with django_assert_num_queries(1):
        by_ids = selectors.latest_snapshots(iter(ids))
    with django_assert_num_queries(1):
        by_queryset = selectors.latest_snapshots(Queue.objects.filter(id__in=ids))
    assert by_ids == by_queryset
    assert set(by_ids) == {queue.id}  # the others have no figures
    assert by_ids[queue.id].backlog == 30
    with django_assert_num_queries(0):
        assert selectors.latest_snapshots([]) == {}


def test_board_loads_sites_and_vendors_of_its_queues(
    manager, vendor, site, queue, healthy, django_assert_num_queries
):
    from vendors.services import site_create, site_update

    closed = site_create(
        actor=manager,
        vendor_id=vendor.id,
        name="Cebu",
        city="Cebu",
        country="PH",
        time_zone="Asia/Tokyo",
    )
    on_closed = queue_create(
        actor=manager, vendor_id=vendor.id, site=closed, code="old", name="Old"
    )
    site_update(actor=manager, site_id=closed.id, is_active=False)
    snapshot_post(actor=manager, queue_id=queue.id, fields=healthy())
    with django_assert_num_queries(5):
        [row] = selectors.vendor_board(viewer=manager, now=timezone.now())
    with django_assert_num_queries(0):
        assert [s.id for s in row.sites] == [site.id]  # active sites only
        assert all(s.vendor is row.vendor for s in row.sites)
        by_id = {r.queue.id: r for r in row.queues}
        assert by_id[queue.id].queue.site == site
        assert by_id[queue.id].queue.vendor is row.vendor
        # A queue on an inactive site still has its site (its time zone).
        assert by_id[on_closed.id].queue.time_zone_name() == "Asia/Tokyo"
        assert by_id[queue.id].snapshot is not None and by_id[on_closed.id].snapshot is None


def test_weekly_figures_weight_attainment_by_outflow(manager, lead, queue, other_vendor, healthy):
    now = timezone.now().replace(second=0, microsecond=0)
    snapshot_post(
        actor=manager,
        queue_id=queue.id,
        fields=healthy(taken_at=now, sla_attainment=90, outflow_per_hour=300, qa_accuracy=96),
    )
    snapshot_post(
        actor=manager,
        queue_id=queue.id,
        fields=healthy(
            taken_at=now - timedelta(minutes=1), sla_attainment=100, outflow_per_hour=100
        ),
    )
    since = now - timedelta(days=1)
    rows = selectors.vendor_weekly_figures(viewer=lead, vendor_id=queue.vendor_id, since=since)
    weeks = {row["week"] for row in rows}
    if len(weeks) == 1:  # both minutes in one ISO week (not Monday 00:00 UTC)
        [row] = rows
        assert row["attainment"] == pytest.approx(92.5)
        assert row["qa_accuracy"] == pytest.approx(96)
        assert row["snapshots"] == 2
    assert (
        selectors.vendor_weekly_figures(viewer=lead, vendor_id=other_vendor.id, since=since) is None
    )


def test_site_changes_keeps_the_newest_of_each_site_in_one_query(
    manager, site, other_site, django_assert_num_queries
):
    """A busy site does not crowd out a quiet one's history."""
    site_status_change(actor=manager, site_id=other_site.id, status="degraded", reason="Power")
    for n in range(12):  # many newer changes at the other site
        site_status_change(
            actor=manager,
            site_id=site.id,
            status="degraded" if n % 2 == 0 else "operational",
            reason=f"flap {n}",
        )
    with django_assert_num_queries(1):
        changes = selectors.site_changes([site.id, other_site.id], per_site=3)
    assert [c.current for c in changes[site.id]] == ["operational", "degraded", "operational"]
    assert changes[site.id][1].reason == "flap 10"  # newest first
    assert [c.reason for c in changes[other_site.id]] == ["Power"]
    newest = selectors.site_changes([site.id, other_site.id], per_site=1)
    assert [c.reason for c in newest[other_site.id]] == ["Power"]  # 12 newer elsewhere
