"""POST /api/v1/integrations/<id>/alerts/: monitoring tools deliver alerts.

No session and no user: the integration's own bearer token (`int_...`),
compared by its SHA-256, is the only credential. The token is checked as a
permission, before the throttle, so wrong tokens cannot spend an
integration's rate."""

from __future__ import annotations

import hmac
import json

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from escalations.alerts import (
    TOKEN_PREFIX,
    PayloadInvalid,
    alert_receive,
    alerts_parse,
    integration_token_hash,
)
from escalations.models import Integration
from tscc.api.auth import InvalidToken

MAX_BODY = 256 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The body is larger than 256 KB.")
    default_code = "payload_too_large"


class IntegrationToken(BasePermission):
    """`Authorization: Bearer int_...` of the integration in the URL: 401
    otherwise; 404 if the integration is switched off."""

    def has_permission(self, request, view) -> bool:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            raise InvalidToken(_("Send the header as: Authorization: Bearer int_<secret>."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken() from None
        integration = (
            Integration.objects.select_related("created_by")
            .filter(id=view.kwargs["integration_id"])
            .first()
        )
        if (
            integration is None
            or not secret.startswith(TOKEN_PREFIX)
            or not hmac.compare_digest(integration.token_hash, integration_token_hash(secret))
        ):
            raise InvalidToken()
        if not integration.active:
            raise exceptions.NotFound(_("This integration is switched off."))
        view.integration = integration
        return True


class IntegrationRateThrottle(ScopedRateThrottle):
    """The "alerts" rate, counted per integration rather than per client."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": view.kwargs["integration_id"]}


class AlertResultSerializer(serializers.Serializer):
    dedup_key = serializers.CharField()
    status = serializers.ChoiceField(choices=["firing", "resolved"])
    incident = serializers.CharField(
        allow_null=True, help_text="The incident's reference, e.g. INC-2025-00042."
    )
    created = serializers.BooleanField(help_text="Whether this delivery opened the incident.")


class AlertReceiveApi(APIView):
    authentication_classes = []
    permission_classes = [IntegrationToken]
    throttle_classes = [IntegrationRateThrottle]
    throttle_scope = "alerts"

    @extend_schema(
        operation_id="integration_alerts_receive",
        summary="Deliver alerts from a monitoring tool",
        description=(
            "Authenticated by the integration's own token: `Authorization: Bearer int_<secret>`. "
            "A generic integration takes `{dedup_key, status, title, summary, severity}` "
            "(or a list of them); an Alertmanager one takes the webhook (version 4). "
            "A new firing key opens an incident, a repeated one is counted, a resolved "
            "one is recorded on the incident's timeline. At most 256 KB."
        ),
        auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            202: AlertResultSerializer(many=True),
            400: OpenApiResponse(description="Invalid JSON or payload."),
            401: OpenApiResponse(description="Missing or wrong token."),
            404: OpenApiResponse(description="Unknown or inactive integration."),
            413: OpenApiResponse(description="Body larger than 256 KB."),
            429: OpenApiResponse(description="Rate limited."),
        },
        examples=[
            OpenApiExample(
                "Generic",
                value={
                    "dedup_key": "api-5xx",
                    "status": "firing",
                    "title": "Moderation API 5xx",
                    "summary": "Error rate above 5% for 5 minutes",
                    "severity": "sev2",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, integration_id: int):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY:
            raise PayloadTooLarge()
        body = request.body
        if len(body) > MAX_BODY:
            raise PayloadTooLarge()
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):  # `[[[[...` too deep
            raise exceptions.ParseError(_("The body is not valid JSON.")) from None
        try:
            items = alerts_parse(self.integration, data)
        except PayloadInvalid as error:
            raise exceptions.ParseError(str(error)) from None
        alerts = alert_receive(integration=self.integration, items=items)
        results = [
            {
                "dedup_key": alert.dedup_key,
                "status": alert.status,
                "incident": alert.incident.reference if alert.incident_id else None,
                "created": alert.incident_created,
            }
            for alert in alerts
        ]
        return Response(AlertResultSerializer(results, many=True).data, status=202)
