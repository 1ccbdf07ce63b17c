"""What the API promises in its schema and keeps: every answer an operation
can give is documented, instants are bounded to ones RFC 3339 can write, and
400s keep their documented shape (findings of the schema fuzzing, `make fuzz`)."""

from __future__ import annotations

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.api_client import Api
from tests.incidents.factories import declare
from tscc.roles import Role

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_every_operation_documents_the_errors_it_can_answer(schema):
    missing = []
    for name, op in operations(schema):
        places = {p["in"] for p in op.get("parameters", [])}
        codes = set(op["responses"])
        needed = {"503"}
        if "path" in places:
            needed.add("404")
        if "requestBody" in op or "query" in places:
            needed.add("400")
        if "requestBody" in op:
            needed.add("415")
        if needed - codes:
            missing.append((name, sorted(needed - codes)))
    assert missing == []
    assert len(list(operations(schema))) > 100
    unavailable = schema["paths"]["/api/v1/incidents/"]["get"]["responses"]["503"]
    assert "Retry-After" in unavailable["headers"]


def test_queue_times_are_wall_clock_times_not_rfc3339_full_times(schema):
    queue = schema["components"]["schemas"]["QueueOutput"]["properties"]
    assert queue["staffed_from"]["type"] == "string"
    assert "format" not in queue["staffed_from"]
    assert queue["staffed_from"]["pattern"].startswith("^")


@pytest.fixture
def manager_api(make_user):
    client = Client()
    client.force_login(make_user(Role.OPS_MANAGER))
    return Api(client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "at", ["0280-11-01T09:53:39Z", "1969-12-31T23:59:59Z", "2200-01-01T00:00Z"]
)
def test_instants_outside_1970_to_2200_are_refused(manager_api, at):
    response = manager_api.get("/oncall/oncall/now/", {"at": at})
    assert response.status_code == 400, response.content
    assert "1970" in str(response.json())


@pytest.mark.django_db
def test_a_note_dated_before_1970_is_refused_and_nothing_is_written(manager_api, make_user):
    incident = declare(make_user(Role.OPS_MANAGER))
    before = incident.last_seq
    response = manager_api.post(
        f"/incidents/{incident.id}/timeline/",
        {"text": "old", "occurred_at": "0294-02-20T10:28:24+17:40"},
    )
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.last_seq == before
    ok = manager_api.post(
        f"/incidents/{incident.id}/timeline/",
        {"text": "recent", "occurred_at": "2026-01-02T03:04:05+08:00"},
    )
    assert ok.status_code == 201, ok.content


@pytest.mark.django_db
def test_a_bulk_body_its_content_type_does_not_hold_answers_the_bulk_error_shape(manager_api):
    response = manager_api.client.post(
        "/api/v1/vendors/snapshots/bulk/",
        b"--x\r\nnot a multipart body",
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["row"] == 0 and body["errors"][0]["field"] == "row"
