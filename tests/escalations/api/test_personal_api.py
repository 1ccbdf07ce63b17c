"""The caller's contact methods, notification rules and quiet hours: their
own only (another person's rows are 404), secrets written but never read
back, the services' checks as 400s, and lists at a fixed query cost."""

from __future__ import annotations

import pytest
from django.core import mail

from escalations import config
from escalations.models import ContactMethod, NotificationRule, QuietHours
from tests.escalations.api.conftest import SECRET, error_fields, queries_for

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.test/robot/ana"


def method_of(user, channel: str = "email", address: str | None = None, **data):
    address = address or f"{user.username}@example.test"
    return config.contact_method_save(
        actor=user, user_id=user.id, data={"channel": channel, "address": address, **data}
    )


# --- Contact methods -------------------------------------------------------------------


def test_a_secret_is_written_but_only_its_presence_is_read_back(api_as, cast):
    api = api_as(cast.ana)
    data = {"channel": "webhook", "address": HOOK, "secret": SECRET}
    response = api.post("/me/contact-methods/", data)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made == {
        "id": made["id"],
        "channel": "webhook",
        "address": HOOK,
        "enabled": True,
        "has_secret": True,
    }
    assert ContactMethod.objects.get(id=made["id"]).secret == SECRET
    [listed] = api.get("/me/contact-methods/").json()
    assert listed == made


def test_replacing_a_method_keeps_or_clears_its_secret(api_as, cast):
    method = method_of(cast.ana, "webhook", HOOK, secret=SECRET)
    api = api_as(cast.ana)
    path = f"/me/contact-methods/{method.id}/"
    data = {"channel": "webhook", "address": HOOK + "?v=2", "enabled": False}
    response = api.put(path, data)
    assert response.status_code == 200
    assert response.json()["has_secret"] is True and response.json()["enabled"] is False
    assert ContactMethod.objects.get(id=method.id).secret == SECRET
    response = api.put(path, data | {"clear_secret": True})
    assert response.json()["has_secret"] is False
    assert ContactMethod.objects.get(id=method.id).secret == ""


@pytest.mark.parametrize(
    "data, field",
    [
        ({"channel": "pigeon", "address": "x"}, "channel"),
        ({"channel": "email"}, "address"),
        ({"channel": "email", "address": "not an address"}, "address"),
        ({"channel": "sms", "address": "12345"}, "address"),
        ({"channel": "feishu", "address": "ftp://robot"}, "address"),
        ({"channel": "webhook", "address": HOOK, "secret": "x" * 201}, "secret"),
        ({"channel": "email", "address": "a@example.test", "enabled": "perhaps"}, "enabled"),
    ],
)
def test_malformed_contact_methods_are_400_with_field_errors(api_as, cast, data, field):
    response = api_as(cast.ana).post("/me/contact-methods/", data)
    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert not ContactMethod.objects.exists()


def test_another_persons_contact_method_is_404(api_as, cast):
    bens = method_of(cast.ben, "webhook", HOOK, secret=SECRET)
    path = f"/me/contact-methods/{bens.id}/"
    for user in (cast.ana, cast.manager):
        api = api_as(user)
        data = {"channel": "email", "address": "ana@example.test"}
        assert api.put(path, data).status_code == 404
        assert api.delete(path).status_code == 404
        assert api.post(f"{path}test/").status_code == 404
        assert api.get("/me/contact-methods/").json() == []
    assert ContactMethod.objects.get(id=bens.id).address == HOOK


def test_deleting_the_last_method_of_a_channel_drops_its_rules(api_as, cast):
    method = method_of(cast.ana)
    config.notification_rule_save(
        actor=cast.ana, user_id=cast.ana.id, data={"channel": "email", "urgency": "low"}
    )
    response = api_as(cast.ana).delete(f"/me/contact-methods/{method.id}/")
    assert response.status_code == 204
    assert not ContactMethod.objects.exists() and not NotificationRule.objects.exists()


def test_a_test_message_answers_the_providers_id(api_as, cast):
    method = method_of(cast.ana)
    response = api_as(cast.ana).post(f"/me/contact-methods/{method.id}/test/")
    assert response.status_code == 200
    assert response.json() == {"provider_id": "email"}
    assert mail.outbox[0].to == [f"{cast.ana.username}@example.test"]


def test_a_refused_test_message_is_the_services_error(api_as, cast, settings):
    settings.SMS_GATEWAY_URL = ""
    method = method_of(cast.ana, "sms", "+8613800138000")
    response = api_as(cast.ana).post(f"/me/contact-methods/{method.id}/test/")
    assert response.status_code == 409
    assert response.json()["code"] == "delivery_failed"


def test_the_contact_method_list_costs_the_same_queries_for_many(api_as, cast):
    api = api_as(cast.ana)
    method_of(cast.ana, "webhook", HOOK, secret=SECRET)
    few, body = queries_for(api, "/me/contact-methods/")
    for i in range(8):
        method_of(cast.ana, "email", f"ana{i}@example.test")
    many, body = queries_for(api, "/me/contact-methods/")
    assert len(body) == 9
    assert few == many == 3  # session, user, methods


# --- Notification rules ----------------------------------------------------------------


def test_notification_rules_are_added_replaced_and_removed(api_as, cast):
    method_of(cast.ana, "webhook", HOOK)
    api = api_as(cast.ana)
    response = api.post("/me/notification-rules/", {"channel": "app", "urgency": "high"})
    assert response.status_code == 201
    made = response.json()
    assert made == {"id": made["id"], "channel": "app", "delay_minutes": 0, "urgency": "high"}
    data = {"channel": "webhook", "urgency": "low", "delay_minutes": 15}
    response = api.put(f"/me/notification-rules/{made['id']}/", data)
    assert response.status_code == 200 and response.json() == {"id": made["id"], **data}
    assert api.get("/me/notification-rules/").json() == [response.json()]
    assert api.delete(f"/me/notification-rules/{made['id']}/").status_code == 204
    assert not NotificationRule.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"channel": "sms", "urgency": "high"}, "channel"),  # no SMS contact method
        ({"channel": "app", "urgency": "urgent"}, "urgency"),
        ({"channel": "app", "urgency": "high", "delay_minutes": 121}, "delay_minutes"),
        ({"channel": "app", "urgency": "high", "delay_minutes": "soon"}, "delay_minutes"),
        ({"urgency": "high"}, "channel"),
    ],
)
def test_malformed_notification_rules_are_400_with_field_errors(api_as, cast, data, field):
    response = api_as(cast.ana).post("/me/notification-rules/", data)
    assert response.status_code == 400
    assert error_fields(response) == {field}


def test_another_persons_notification_rule_is_404(api_as, cast):
    bens = config.notification_rule_save(
        actor=cast.ben, user_id=cast.ben.id, data={"channel": "app", "urgency": "high"}
    )
    api = api_as(cast.ana)
    data = {"channel": "app", "urgency": "low"}
    assert api.put(f"/me/notification-rules/{bens.id}/", data).status_code == 404
    assert api.delete(f"/me/notification-rules/{bens.id}/").status_code == 404
    assert NotificationRule.objects.get(id=bens.id).urgency == "high"


def test_the_notification_rule_list_costs_the_same_queries_for_many(api_as, cast):
    api = api_as(cast.ana)

    def make(n: int) -> None:
        for i in range(n):
            config.notification_rule_save(
                actor=cast.ana,
                user_id=cast.ana.id,
                data={"channel": "app", "urgency": "high", "delay_minutes": i},
            )

    make(1)
    few, _body = queries_for(api, "/me/notification-rules/")
    make(8)
    many, body = queries_for(api, "/me/notification-rules/")
    assert len(body) == 9
    assert few == many == 3  # session, user, rules


# --- Quiet hours ------------------------------------------------------------------------


def test_quiet_hours_are_set_read_and_cleared(api_as, cast):
    api = api_as(cast.ana)
    none = {"start": None, "end": None, "enabled": False, "time_zone": "Asia/Shanghai"}
    assert api.get("/me/quiet-hours/").json() == none
    response = api.put("/me/quiet-hours/", {"start": "22:30", "end": "07:00"})
    assert response.status_code == 200
    quiet = {"start": "22:30", "end": "07:00", "enabled": True, "time_zone": "Asia/Shanghai"}
    assert response.json() == quiet
    assert api.get("/me/quiet-hours/").json() == quiet
    response = api.put("/me/quiet-hours/", {"start": "22:30", "end": "07:00", "enabled": False})
    assert response.json() == none
    assert not QuietHours.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"start": "25:00", "end": "07:00"}, "start"),
        ({"start": "22:00", "end": "7pm"}, "end"),
        ({"start": "22:00", "end": "22:00"}, "end"),  # the service's rule
        ({"start": "22:00"}, "end"),
        ({"start": "22:00", "end": "07:00", "enabled": "maybe"}, "enabled"),
    ],
)
def test_malformed_quiet_hours_are_400_with_field_errors(api_as, cast, data, field):
    response = api_as(cast.ana).put("/me/quiet-hours/", data)
    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert not QuietHours.objects.exists()
