"""The vendor admin pages load; a token added there shows its secret once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tscc.roles import Role
from vendors.models import VendorToken
from vendors.services import token_authenticate

pytestmark = pytest.mark.django_db

MODELS = [
    "vendor",
    "site",
    "queue",
    "queuesnapshot",
    "sitestatuschange",
    "vendormembership",
    "incidentimpact",
    "vendortoken",
    "queuedayfigures",
    "snapshotday",
]


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(Role.ADMIN, is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load(admin_client, queue, lead, model):
    response = admin_client.get(reverse(f"admin:vendors_{model}_changelist"))
    assert response.status_code == 200


def test_token_added_in_admin_shows_its_secret_once(admin_client, vendor):
    response = admin_client.post(
        reverse("admin:vendors_vendortoken_add"),
        {"vendor": vendor.id, "name": "WFM feed"},
        follow=True,
    )
    assert response.status_code == 200
    token = VendorToken.objects.get()
    [message] = [str(m) for m in response.context["messages"] if "secret" in str(m)]
    secret = message.rsplit(" ", 1)[-1]
    assert secret.startswith(token.prefix)
    assert token_authenticate(secret) == token
    page = admin_client.get(reverse("admin:vendors_vendortoken_change", args=[token.id]))
    assert secret not in page.content.decode()


def test_snapshots_cannot_be_deleted_in_the_admin(admin_client, queue):
    from tests.vendors.test_metrics import snap
    from vendors.models import QueueSnapshot

    snapshot = snap(queue, 1, 99, 100)
    page = admin_client.get(reverse("admin:vendors_queuesnapshot_delete", args=[snapshot.id]))
    assert page.status_code == 403
    bulk = admin_client.post(
        reverse("admin:vendors_queuesnapshot_changelist"),
        {"action": "delete_selected", "_selected_action": [snapshot.id], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert QueueSnapshot.objects.filter(id=snapshot.id).exists()
