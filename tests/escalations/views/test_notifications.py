"""My notifications through the real page: contact methods (a secret is
never shown back), a test send with its result in place, notification rules
as a readable sequence, and quiet hours in the person's own zone."""

import re

import pytest
from django.urls import reverse

from escalations import config
from escalations.delivery import DeliveryError
from escalations.models import ContactMethod, NotificationRule, QuietHours
from tests.escalations.views.conftest import HTMX
from tscc.roles import Role

pytestmark = pytest.mark.django_db
SECRET = "SEC-very-secret-signing-key-42"


def seq(page: str, urgency: str) -> str:
    """The sequence sentence of one urgency, as read."""
    found = re.search(rf'data-seq="{urgency}">(.*?)</p>', page, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found)).strip()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OPS_MANAGER, 200),
        (Role.RESPONDER, 200),
        (Role.ADMIN, 200),
        (Role.BPO_LEAD, 403),
        (Role.EXECUTIVE, 403),
    ],
)
def test_the_page_per_role(client, make_user, role, status):
    client.force_login(make_user(role))
    response = client.get(reverse("escalations:me"))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert "Contact methods" in page and "SEV0 and SEV1 ignore quiet hours" in page
    else:
        assert client.post(reverse("escalations:quiet-hours"), {}).status_code == 403


def test_add_an_sms_method_and_rules_and_read_the_sequence(client, cast):
    client.force_login(cast.rita)
    page = client.get(reverse("escalations:me")).content.decode()
    assert seq(page, "high") == "In-app at once → SMS after 1 min → Phone call after 3 min"
    assert "so TSCC uses these defaults" in page
    added = client.post(
        reverse("escalations:method-create"),
        {"new-channel": "sms", "new-address": "+86 138 0013 8000", "new-enabled": "on"},
        **HTMX,
    )
    assert added.status_code == 200 and 'id="notifications"' in added.content.decode()
    method = ContactMethod.objects.get(user=cast.rita)
    assert (method.channel, method.address, method.enabled) == ("sms", "+8613800138000", True)
    for channel, delay in (("app", "0"), ("sms", "2")):
        response = client.post(
            reverse("escalations:rule-create"),
            {
                "urgency_form": "high",
                "high-urgency": "high",
                "high-channel": channel,
                "high-delay_minutes": delay,
            },
        )
        assert response.status_code == 303
    page = client.get(reverse("escalations:me")).content.decode()
    assert seq(page, "high") == "In-app at once → SMS after 2 min"
    assert seq(page, "low") == "In-app at once → E-mail after 5 min"  # the defaults
    refused = client.post(
        reverse("escalations:rule-create"),
        {"urgency_form": "low", "low-urgency": "low", "low-channel": "voice"},
        **HTMX,
    )
    page = refused.content.decode()
    assert refused.status_code == 422 and "Add a contact method for this channel first." in page
    assert 'name="low-delay_minutes"' in page  # the form is back, in place
    rule = NotificationRule.objects.get(channel="sms")
    client.post(reverse("escalations:rule-delete", args=[rule.id]), **HTMX)
    assert list(NotificationRule.objects.values_list("channel", flat=True)) == ["app"]


def test_a_bad_address_comes_back_in_place_and_the_secret_is_never_shown(client, cast):
    client.force_login(cast.rita)
    bad = client.post(
        reverse("escalations:method-create"),
        {"new-channel": "feishu", "new-address": "not a url", "new-secret": SECRET},
        **HTMX,
    )
    page = bad.content.decode()
    assert bad.status_code == 422 and "An http(s) URL of the robot or endpoint." in page
    assert 'value="not a url"' in page and SECRET not in page
    client.post(
        reverse("escalations:method-create"),
        {
            "new-channel": "feishu",
            "new-address": "https://open.feishu.cn/open-apis/bot/v2/hook/x",
            "new-secret": SECRET,
            "new-enabled": "on",
        },
    )
    method = ContactMethod.objects.get()
    assert method.secret == SECRET
    page = client.get(reverse("escalations:me")).content.decode()
    assert SECRET not in page and "secret stored" in page
    # Saving the address again without typing a secret keeps it; nothing shows it.
    kept = client.post(
        reverse("escalations:method-update", args=[method.id]),
        {
            f"method{method.id}-address": "https://open.feishu.cn/open-apis/bot/v2/hook/y",
            f"method{method.id}-enabled": "on",
        },
        **HTMX,
    )
    assert kept.status_code == 200 and SECRET not in kept.content.decode()
    method.refresh_from_db()
    assert method.secret == SECRET and method.address.endswith("/y")
    wrong = client.post(
        reverse("escalations:method-update", args=[method.id]),
        {f"method{method.id}-address": "nope", f"method{method.id}-secret": "NEW-" + SECRET},
        **HTMX,
    )
    assert wrong.status_code == 422 and SECRET not in wrong.content.decode()
    for url in (reverse("escalations:policies"), reverse("escalations:my-pages"), "/"):
        assert SECRET not in client.get(url).content.decode()


def test_send_test_shows_the_result_in_place(client, cast, monkeypatch):
    method = config.contact_method_save(
        actor=cast.rita,
        user_id=cast.rita.id,
        data={"channel": "webhook", "address": "https://hooks.example.test/x", "secret": SECRET},
    )
    sent, refusal = [], []

    def fake_send(target, message):
        sent.append(target)
        if refusal:
            raise DeliveryError(refusal[0])
        return "provider-1"

    monkeypatch.setattr("escalations.config.adapter_for", lambda channel: fake_send)
    client.force_login(cast.rita)
    ok = client.post(reverse("escalations:method-test", args=[method.id]), **HTMX)
    assert ok.status_code == 200 and 'id="test-result-' in ok.content.decode()
    assert "Sent." in ok.content.decode() and "<html" not in ok.content.decode()
    assert sent[0].secret == SECRET  # used for signing, never shown
    refusal.append("HTTP 400")
    failed = client.post(reverse("escalations:method-test", args=[method.id]), **HTMX)
    page = failed.content.decode()
    assert failed.status_code == 409 and "The test did not go through: HTTP 400" in page
    assert SECRET not in page
    plain = client.post(reverse("escalations:method-test", args=[method.id]))
    assert plain.status_code == 409 and "The test did not go through" in plain.content.decode()
    assert SECRET not in plain.content.decode()


def test_someone_elses_method_is_not_there(client, cast):
    method = config.contact_method_save(
        actor=cast.li, user_id=cast.li.id, data={"channel": "sms", "address": "+8613800138000"}
    )
    client.force_login(cast.rita)
    for name in ("method-test", "method-delete", "method-update"):
        assert client.post(reverse(f"escalations:{name}", args=[method.id])).status_code == 404
    assert ContactMethod.objects.filter(id=method.id).exists()


def test_quiet_hours_in_my_own_zone(client, cast):
    client.force_login(cast.rita)
    same = client.post(
        reverse("escalations:quiet-hours"), {"start": "22:00", "end": "22:00"}, **HTMX
    )
    assert same.status_code == 422 and "Different from the start." in same.content.decode()
    saved = client.post(reverse("escalations:quiet-hours"), {"start": "23:00", "end": "07:00"})
    assert saved.status_code == 303
    quiet = QuietHours.objects.get(user=cast.rita)
    assert (quiet.start.hour, quiet.end.hour) == (23, 7)
    page = client.get(reverse("escalations:me")).content.decode()
    assert "Quiet from 23:00 until 07:00." in page and "Asia/Shanghai" in page
    client.post(
        reverse("escalations:quiet-hours"), {"start": "23:00", "end": "07:00", "clear": "1"}
    )
    assert not QuietHours.objects.exists()


def test_my_notifications_is_linked_from_my_pages_the_menu_and_the_profile(client, cast):
    client.force_login(cast.rita)
    url = reverse("escalations:me")
    for page in ("/", reverse("escalations:my-pages"), reverse("profile")):
        assert f'href="{url}"' in client.get(page).content.decode()
    client.force_login(cast.executive)
    assert f'href="{url}"' not in client.get("/").content.decode()
