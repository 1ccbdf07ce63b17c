import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tscc.roles import Role

pytestmark = pytest.mark.django_db


def post_login(client, username, password):
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3"
    )


def test_login_with_the_right_password_opens_the_overview(client, make_user):
    make_user(username="amy")
    response = post_login(client, "amy", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_pages_need_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, make_user):
    make_user(username="amy")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = post_login(client, "amy", "wrong")
        assert response.status_code == 200
        assert b"form-error" in response.content

    locked = post_login(client, "amy", "wrong")
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content

    still_locked = post_login(client, "amy", PASSWORD)
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account_and_address(client, make_user):
    make_user(username="amy")
    make_user(username="ben")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "amy", "wrong")
    assert post_login(client, "ben", PASSWORD).status_code == 302


def test_logout_is_a_post_and_ends_the_session(client, make_user):
    client.force_login(make_user())
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_is_enforced_on_login(make_user):
    from django.test import Client

    make_user(username="amy")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/login/", {"username": "amy", "password": PASSWORD})
    assert response.status_code == 403
    assert b"Form expired" in response.content


@pytest.mark.parametrize("role", list(Role))
def test_every_role_can_sign_in(client, make_user, role):
    make_user(username=f"u-{role}", role=role)
    assert post_login(client, f"u-{role}", PASSWORD).status_code == 302
