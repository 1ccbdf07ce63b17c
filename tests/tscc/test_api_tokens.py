"""API tokens: created once, stored as a hash, refused when revoked, expired
or for an inactive user; they carry their user's role and nothing more."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from tests.incidents.factories import declare
from tscc.models import ApiToken
from tscc.roles import Role
from tscc.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def amy(make_user):
    return make_user(Role.RESPONDER, username="amy")


@pytest.fixture
def amy_token(amy):
    return api_token_create(actor=amy, user=amy, name="SOAR connector")


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(amy_token):
    token, secret = amy_token
    assert secret.startswith("tscc_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[5:13]
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret[5:] in str(value) for value in row.values())


def test_a_valid_token_authenticates_as_its_user(amy, amy_token):
    _token, secret = amy_token
    response = Client().get("/api/v1/me/", **bearer(secret))
    assert response.status_code == 200
    assert response.json()["username"] == "amy"


def test_token_requests_need_no_csrf_token(amy_token):
    _token, secret = amy_token
    client = Client(enforce_csrf_checks=True)
    response = client.patch(
        "/api/v1/me/", {"display_name": "Amy"}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 200 and response.json()["display_name"] == "Amy"


def test_last_used_is_recorded_at_most_once_a_minute(amy_token):
    token, secret = amy_token
    client = Client()
    assert token.last_used_at is None
    client.get("/api/v1/me/", **bearer(secret))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/me/", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/me/", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at >= first


def _assert_401(response):
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(amy, amy_token):
    token, secret = amy_token
    api_token_revoke(actor=amy, token=token)
    _assert_401(Client().get("/api/v1/me/", **bearer(secret)))


def test_an_expired_token_is_401(amy, amy_token):
    token, secret = amy_token
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_401(Client().get("/api/v1/me/", **bearer(secret)))


def test_a_token_of_an_inactive_user_is_401(amy, amy_token):
    _token, secret = amy_token
    amy.is_active = False
    amy.save(update_fields=["is_active"])
    _assert_401(Client().get("/api/v1/me/", **bearer(secret)))


@pytest.mark.parametrize(
    "header",
    ["Bearer tscc_not-a-real-secret", "Bearer someone-elses-token", "Bearer", "Bearer a b"],
)
def test_a_bad_token_is_401(amy_token, header):
    _assert_401(Client().get("/api/v1/me/", HTTP_AUTHORIZATION=header))


def test_no_credentials_is_still_refused(amy_token):
    assert Client().get("/api/v1/me/").status_code == 403


def test_a_token_does_not_widen_its_users_rights(make_user):
    manager = make_user(Role.OPS_MANAGER)
    incident = declare(manager)
    executive = make_user(Role.EXECUTIVE)
    bpo = make_user(Role.BPO_LEAD)
    _t, exec_secret = api_token_create(actor=executive, user=executive, name="board deck")
    _t, bpo_secret = api_token_create(actor=bpo, user=bpo, name="vendor sync")
    client = Client()
    assert client.get("/api/v1/incidents/", **bearer(exec_secret)).status_code == 200
    declared = client.post(
        "/api/v1/incidents/",
        {"title": "x", "category": "spam_flood", "answers": {}},
        content_type="application/json",
        **bearer(exec_secret),
    )
    assert declared.status_code == 403
    detail = client.get(f"/api/v1/incidents/{incident.id}/", **bearer(bpo_secret))
    assert detail.status_code == 404


def test_tokens_are_made_by_their_user_or_an_admin(make_user, amy):
    other = make_user(Role.OPS_MANAGER)
    with pytest.raises(PermissionDenied):
        api_token_create(actor=other, user=amy, name="not mine")
    admin = make_user(Role.ADMIN)
    token, _secret = api_token_create(actor=admin, user=amy, name="for amy")
    assert token.user == amy and token.created_by == admin
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=other, token=token)
    api_token_revoke(actor=admin, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


@pytest.mark.parametrize(
    ("name", "expires_in", "field"),
    [(" ", None, "name"), ("x" * 121, None, "name"), ("ok", -1, "expires_at")],
)
def test_token_input_is_checked(amy, name, expires_in, field):
    expires_at = timezone.now() + timedelta(minutes=expires_in) if expires_in else None
    with pytest.raises(ValidationError) as error:
        api_token_create(actor=amy, user=amy, name=name, expires_at=expires_at)
    assert field in error.value.message_dict
    assert not ApiToken.objects.exists()


def test_revoking_twice_keeps_the_first_time(amy, amy_token):
    token, _secret = amy_token
    first = api_token_revoke(actor=amy, token=token).revoked_at
    again = api_token_revoke(actor=amy, token=ApiToken.objects.get(pk=token.pk))
    assert again.revoked_at == first


def test_the_command_prints_the_secret_once(amy):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", "amy", "--name", "SIEM", "--expires-days", "30", stdout=out, stderr=err
    )
    secret = out.getvalue().strip()
    token = ApiToken.objects.get(user=amy)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.expires_at > timezone.now() + timedelta(days=29)
    assert secret not in err.getvalue() and "not be shown again" in err.getvalue()
    assert Client().get("/api/v1/me/", **bearer(secret)).status_code == 200


def test_the_command_refuses_unknown_users_and_bad_names(amy):
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", "--name", "x", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_token", "amy", "--name", " ", stdout=StringIO())


def test_admin_shows_tokens_read_only_and_revokes_them(make_user, amy_token):
    token, secret = amy_token
    admin = make_user(Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/tscc/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert token.key_hash in content and secret not in content
    assert 'name="key_hash"' not in content  # shown, not editable
    assert client.get("/admin/tscc/apitoken/add/").status_code == 403
    response = client.post(
        "/admin/tscc/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    _assert_401(Client().get("/api/v1/me/", **bearer(secret)))


def test_the_schema_describes_the_token_scheme(amy):
    client = Client()
    client.force_login(amy)
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    scheme = schema["components"]["securitySchemes"]["apiToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    incidents = schema["paths"]["/api/v1/incidents/"]["get"]
    assert {"apiToken": []} in incidents["security"]


def test_a_token_request_costs_one_lookup(make_user, amy_token, django_assert_num_queries):
    _token, secret = amy_token
    declare(make_user(Role.OPS_MANAGER))
    client = Client()
    client.get("/api/v1/incidents/", **bearer(secret))  # records last_used_at
    # Token with its user, the incidents page, its roles, its markets.
    with django_assert_num_queries(4):
        assert client.get("/api/v1/incidents/", **bearer(secret)).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/oncall/schedules/"])
def test_every_api_answers_json_nested_too_deeply_with_a_400(client, make_user, path):
    """The project's JSON parser (tscc.api.parsers) turns a RecursionError
    into a 400 for every endpoint, not only the ones that thought of it."""
    from tscc.roles import Role

    client.force_login(make_user(Role.OPS_MANAGER))
    deep = "[" * 50_000 + "]" * 50_000
    response = client.post(path, deep, content_type="application/json")
    assert response.status_code == 400
