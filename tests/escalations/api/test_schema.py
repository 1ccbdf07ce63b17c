"""The OpenAPI schema still generates, valid and without a warning, and
every escalations operation is named, summarised and documents its errors."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

PATHS = (
    "/api/v1/escalation-policies/",
    "/api/v1/routing-rules/",
    "/api/v1/me/contact-methods/",
    "/api/v1/me/notification-rules/",
    "/api/v1/me/quiet-hours/",
    "/api/v1/pages/",
    "/api/v1/incidents/{incident_id}/escalations/",
    "/api/v1/incidents/{incident_id}/page/",
)


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        if path.startswith(PATHS):
            for method, operation in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield path, method, operation


def test_every_escalations_operation_is_named_and_documents_refusals(schema):
    operations = list(_operations(schema))
    assert len(operations) == 27
    ids = [operation["operationId"] for _path, _method, operation in operations]
    assert len(set(ids)) == len(ids)
    for path, method, operation in operations:
        assert operation["operationId"].startswith("v1_"), (path, method)
        assert operation.get("summary"), (path, method)
        assert "403" in operation["responses"], (path, method)
        if "{" in path:
            assert "404" in operation["responses"], (path, method)


def test_secrets_are_write_only_in_the_schema(schema):
    components = schema["components"]["schemas"]
    assert "secret" in components["ContactMethodInput"]["properties"]
    assert "secret" not in components["ContactMethodOutput"]["properties"]
    assert "has_secret" in components["ContactMethodOutput"]["properties"]
    assert "destination" not in components["DeliveryOutput"]["properties"]
