"""The caller's own notification settings: contact methods (secrets are
write-only: answers carry `has_secret`), notification rules and quiet hours.
Another person's rows answer 404, as if they did not exist."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from escalations import config, selectors
from escalations.api.common import (
    DETAIL_ERRORS,
    DETAIL_WRITE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    OwnSettingsBaseApi,
    ensure_exists,
    parse,
)
from escalations.api.serializers import (
    ContactMethodInputSerializer,
    ContactMethodOutputSerializer,
    ContactMethodTestOutputSerializer,
    ContactMethodUpdateInputSerializer,
    NotificationRuleInputSerializer,
    NotificationRuleOutputSerializer,
    PagingErrorOutputSerializer,
    QuietHoursInputSerializer,
    QuietHoursOutputSerializer,
)

TEST_FAILED = OpenApiResponse(
    PagingErrorOutputSerializer,
    description="The provider refused or could not be reached (code delivery_failed).",
)


class ContactMethodListApi(OwnSettingsBaseApi):
    """GET: your contact methods. POST: add one; 201 with it."""

    @extend_schema(
        operation_id="v1_me_contact_methods_list",
        summary="List my contact methods",
        responses={200: ContactMethodOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        methods = selectors.user_contact_methods(user=request.user)
        return Response(ContactMethodOutputSerializer(methods, many=True).data)

    @extend_schema(
        operation_id="v1_me_contact_methods_create",
        summary="Add a contact method",
        request=ContactMethodInputSerializer,
        responses={201: ContactMethodOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(ContactMethodInputSerializer, request.data)
        method = config.contact_method_save(actor=request.user, user_id=request.user.id, data=data)
        return Response(ContactMethodOutputSerializer(method).data, status=status.HTTP_201_CREATED)


class ContactMethodDetailApi(OwnSettingsBaseApi):
    """PUT: replace a contact method (an empty `secret` keeps the stored one;
    `clear_secret` removes it). DELETE: remove it, and the notification rules
    of its channel when it was the last method of that channel."""

    @extend_schema(
        operation_id="v1_me_contact_methods_update",
        summary="Replace a contact method",
        request=ContactMethodUpdateInputSerializer,
        responses={200: ContactMethodOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def put(self, request, method_id: int):
        ensure_exists(selectors.user_contact_methods(user=request.user), method_id)
        data = parse(ContactMethodUpdateInputSerializer, request.data)
        method = config.contact_method_save(
            actor=request.user, user_id=request.user.id, method_id=method_id, data=data
        )
        return Response(ContactMethodOutputSerializer(method).data)

    @extend_schema(
        operation_id="v1_me_contact_methods_destroy",
        summary="Delete a contact method",
        request=None,
        responses={204: None, **DETAIL_ERRORS},
    )
    def delete(self, request, method_id: int):
        ensure_exists(selectors.user_contact_methods(user=request.user), method_id)
        config.contact_method_delete(
            actor=request.user, user_id=request.user.id, method_id=method_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMethodTestApi(OwnSettingsBaseApi):
    """POST: send a test message through the method now; 200 with what the
    provider answered, or 409 with its refusal."""

    @extend_schema(
        operation_id="v1_me_contact_methods_test",
        summary="Send a test message to a contact method",
        request=None,
        responses={200: ContactMethodTestOutputSerializer, **DETAIL_ERRORS, 409: TEST_FAILED},
    )
    def post(self, request, method_id: int):
        ensure_exists(selectors.user_contact_methods(user=request.user), method_id)
        provider_id = config.contact_method_test(
            actor=request.user, user_id=request.user.id, method_id=method_id
        )
        return Response(ContactMethodTestOutputSerializer({"provider_id": provider_id}).data)


class NotificationRuleListApi(OwnSettingsBaseApi):
    """GET: your notification rules (how and when a page reaches you, by
    urgency). POST: add one; its channel is "app" or one of your contact
    methods' channels."""

    @extend_schema(
        operation_id="v1_me_notification_rules_list",
        summary="List my notification rules",
        responses={200: NotificationRuleOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        rules = selectors.user_notification_rules(user=request.user)
        return Response(NotificationRuleOutputSerializer(rules, many=True).data)

    @extend_schema(
        operation_id="v1_me_notification_rules_create",
        summary="Add a notification rule",
        request=NotificationRuleInputSerializer,
        responses={201: NotificationRuleOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(NotificationRuleInputSerializer, request.data)
        rule = config.notification_rule_save(actor=request.user, user_id=request.user.id, data=data)
        return Response(NotificationRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class NotificationRuleDetailApi(OwnSettingsBaseApi):
    """PUT: replace a notification rule. DELETE: remove it."""

    @extend_schema(
        operation_id="v1_me_notification_rules_update",
        summary="Replace a notification rule",
        request=NotificationRuleInputSerializer,
        responses={200: NotificationRuleOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def put(self, request, rule_id: int):
        ensure_exists(selectors.user_notification_rules(user=request.user), rule_id)
        data = parse(NotificationRuleInputSerializer, request.data)
        rule = config.notification_rule_save(
            actor=request.user, user_id=request.user.id, rule_id=rule_id, data=data
        )
        return Response(NotificationRuleOutputSerializer(rule).data)

    @extend_schema(
        operation_id="v1_me_notification_rules_destroy",
        summary="Delete a notification rule",
        request=None,
        responses={204: None, **DETAIL_ERRORS},
    )
    def delete(self, request, rule_id: int):
        ensure_exists(selectors.user_notification_rules(user=request.user), rule_id)
        config.notification_rule_delete(
            actor=request.user, user_id=request.user.id, rule_id=rule_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _quiet_hours_response(user) -> Response:
    quiet = selectors.user_quiet_hours(user=user)
    data = {
        "start": quiet.start if quiet else None,
        "end": quiet.end if quiet else None,
        "enabled": bool(quiet and quiet.enabled),
        "time_zone": user.time_zone,
    }
    return Response(QuietHoursOutputSerializer(data).data)


class QuietHoursApi(OwnSettingsBaseApi):
    """GET: your quiet hours, in your time zone (none: `enabled` false).
    PUT: set them, or clear them with `enabled` false or no times. Low
    urgency notifications wait until they end; SEV0 and SEV1 never wait."""

    @extend_schema(
        operation_id="v1_me_quiet_hours_retrieve",
        summary="Read my quiet hours",
        responses={200: QuietHoursOutputSerializer, **READ_ERRORS},
    )
    def get(self, request):
        return _quiet_hours_response(request.user)

    @extend_schema(
        operation_id="v1_me_quiet_hours_update",
        summary="Set or clear my quiet hours",
        request=QuietHoursInputSerializer,
        responses={200: QuietHoursOutputSerializer, **WRITE_ERRORS},
    )
    def put(self, request):
        data = parse(QuietHoursInputSerializer, request.data)
        config.quiet_hours_save(actor=request.user, user_id=request.user.id, data=data)
        return _quiet_hours_response(request.user)
