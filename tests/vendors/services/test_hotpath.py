"""The token path's SQL (vendors/services/hotpath.py) gives what the ORM
gives, and snapshot_output what SnapshotOutputSerializer gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from vendors import services
from vendors.api.serializers import SnapshotOutputSerializer, snapshot_output
from vendors.models import Queue, QueueSnapshot, Site, VendorToken
from vendors.services import hotpath
from vendors.services.setup import token_hash

pytestmark = pytest.mark.django_db


def fields_of(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_usable_token_is_the_orm_s_row(manager, vendor, other_vendor):
    token, secret = services.token_create(actor=manager, vendor_id=vendor.id, name="feed")
    found = hotpath.usable_token(token_hash(secret))
    assert fields_of(found) == fields_of(VendorToken.objects.get(id=token.id))
    assert found.created_at.tzinfo is not None  # converters applied (SQLite's naive values)
    assert hotpath.usable_token(token_hash(secret + "x")) is None
    services.token_revoke(actor=manager, token_id=token.id)
    assert hotpath.usable_token(token_hash(secret)) is None
    _other, other_secret = services.token_create(
        actor=manager, vendor_id=other_vendor.id, name="feed"
    )
    services.vendor_update(actor=manager, vendor_id=other_vendor.id, is_active=False)
    assert hotpath.usable_token(token_hash(other_secret)) is None


def test_vendor_queue_is_the_orm_s_queue_and_site(manager, vendor, queue, other_queue):
    found = hotpath.vendor_queue(queue.id, vendor.id)
    assert fields_of(found) == fields_of(Queue.objects.get(id=queue.id))
    assert fields_of(found.site) == fields_of(Site.objects.get(id=queue.site_id))
    assert found.time_zone_name() == "Asia/Manila"
    assert hotpath.vendor_queue(other_queue.id, vendor.id) is None  # another vendor's
    assert hotpath.vendor_queue(987654, vendor.id) is None
    bare = services.queue_create(actor=manager, vendor_id=vendor.id, code="bare", name="Bare")
    found = hotpath.vendor_queue(bare.id, vendor.id)
    assert found.site is None and found.time_zone_name() == "UTC"


def test_insert_snapshot_once_per_queue_and_minute(queue, healthy):
    taken = timezone.now().replace(second=0, microsecond=0)
    values = {k: v for k, v in healthy().items() if k != "taken_at"}

    def build(**extra):
        return QueueSnapshot(
            queue=queue,
            taken_at=taken,
            source="token",
            created_at=timezone.now(),
            planned_headcount=20,
            **{**values, **extra},
        )

    first = build(aht_seconds=310.5, escalations=2)
    assert hotpath.insert_snapshot(first) and first.id is not None
    assert not first._state.adding
    stored = QueueSnapshot.objects.get(id=first.id)
    assert model_to_dict(stored) == model_to_dict(first)
    assert not hotpath.insert_snapshot(build(backlog=999))  # the same minute
    assert QueueSnapshot.objects.get().backlog == values["backlog"]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_snapshot_output_is_the_serializer_s(manager, queue, healthy, zone):
    plain = services.snapshot_post(actor=manager, queue_id=queue.id, fields=healthy())
    full = services.snapshot_post(
        actor=manager,
        queue_id=queue.id,
        fields=healthy(
            taken_at=healthy()["taken_at"] - timedelta(minutes=5),
            aht_seconds=301.5,
            qa_accuracy=97.25,
            escalations=3,
            planned_headcount=22,
        ),
    )
    with timezone.override(zone):
        for snapshot in (plain, full, QueueSnapshot.objects.select_related("queue").first()):
            assert snapshot_output(snapshot) == SnapshotOutputSerializer(snapshot).data
