"""Escalation policies and routing rules: everyone in operations reads them,
ops managers and admins change them (escalations.config). Running
escalations keep paging by their frozen copy; see the switch in pages.py."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from escalations import config, selectors
from escalations.api.common import (
    CONFLICT,
    DETAIL_ERRORS,
    DETAIL_WRITE_ERRORS,
    NOT_FOUND,
    READ_ERRORS,
    REFUSED,
    WRITE_ERRORS,
    PolicyBaseApi,
    ensure_exists,
    get_or_404,
    parse,
)
from escalations.api.serializers import (
    PolicyInputSerializer,
    PolicyOutputSerializer,
    RoutingRuleInputSerializer,
    RoutingRuleMoveInputSerializer,
    RoutingRuleOrderOutputSerializer,
    RoutingRuleOutputSerializer,
)


def _policy_response(policy_id: int, code=status.HTTP_200_OK) -> Response:
    policy = get_or_404(selectors.policies_with_levels(), policy_id)
    return Response(PolicyOutputSerializer(policy).data, status=code)


def _rule_response(rule_id: int, code=status.HTTP_200_OK) -> Response:
    rule = get_or_404(selectors.routing_rules_with_policy(), rule_id)
    return Response(RoutingRuleOutputSerializer(rule).data, status=code)


class PolicyListApi(PolicyBaseApi):
    """GET: every policy by name, with its levels and their targets, and how
    many routing rules use it (a fixed number of queries however many there
    are). POST: create one; 201 with it."""

    @extend_schema(
        operation_id="v1_escalation_policies_list",
        summary="List escalation policies",
        responses={200: PolicyOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        policies = selectors.policies_with_levels()
        return Response(PolicyOutputSerializer(policies, many=True).data)

    @extend_schema(
        operation_id="v1_escalation_policies_create",
        summary="Create an escalation policy",
        request=PolicyInputSerializer,
        responses={201: PolicyOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(PolicyInputSerializer, request.data)
        policy = config.policy_save(actor=request.user, data=data)
        return _policy_response(policy.id, status.HTTP_201_CREATED)


class PolicyDetailApi(PolicyBaseApi):
    """GET: one policy. PUT: replace it as a whole (name, team, repeat, final
    person and every level); incidents paging now keep their copy. DELETE:
    remove it; 409 while routing rules use it."""

    @extend_schema(
        operation_id="v1_escalation_policies_retrieve",
        summary="Read an escalation policy",
        responses={200: PolicyOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, policy_id: int):
        return _policy_response(policy_id)

    @extend_schema(
        operation_id="v1_escalation_policies_update",
        summary="Replace an escalation policy",
        request=PolicyInputSerializer,
        responses={200: PolicyOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def put(self, request, policy_id: int):
        ensure_exists(selectors.policies_with_levels(), policy_id)
        data = parse(PolicyInputSerializer, request.data)
        config.policy_save(actor=request.user, policy_id=policy_id, data=data)
        return _policy_response(policy_id)

    @extend_schema(
        operation_id="v1_escalation_policies_destroy",
        summary="Delete an escalation policy",
        request=None,
        responses={204: None, 403: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    )
    def delete(self, request, policy_id: int):
        ensure_exists(selectors.policies_with_levels(), policy_id)
        config.policy_delete(actor=request.user, policy_id=policy_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoutingRuleListApi(PolicyBaseApi):
    """GET: the routing rules in the order they are tried (the first that
    matches an incident's severity, category and team picks its policy).
    POST: add one (last, unless `position` says where); 201 with it."""

    @extend_schema(
        operation_id="v1_routing_rules_list",
        summary="List routing rules",
        responses={200: RoutingRuleOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        rules = selectors.routing_rules_with_policy()
        return Response(RoutingRuleOutputSerializer(rules, many=True).data)

    @extend_schema(
        operation_id="v1_routing_rules_create",
        summary="Create a routing rule",
        request=RoutingRuleInputSerializer,
        responses={201: RoutingRuleOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(RoutingRuleInputSerializer, request.data)
        rule = config.routing_rule_save(actor=request.user, data=data)
        return _rule_response(rule.id, status.HTTP_201_CREATED)


class RoutingRuleDetailApi(PolicyBaseApi):
    """GET: one rule. PUT: replace it (without `position` it keeps its
    place). DELETE: remove it."""

    @extend_schema(
        operation_id="v1_routing_rules_retrieve",
        summary="Read a routing rule",
        responses={200: RoutingRuleOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, rule_id: int):
        return _rule_response(rule_id)

    @extend_schema(
        operation_id="v1_routing_rules_update",
        summary="Replace a routing rule",
        request=RoutingRuleInputSerializer,
        responses={200: RoutingRuleOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def put(self, request, rule_id: int):
        ensure_exists(selectors.routing_rules_with_policy(), rule_id)
        data = parse(RoutingRuleInputSerializer, request.data)
        config.routing_rule_save(actor=request.user, rule_id=rule_id, data=data)
        return _rule_response(rule_id)

    @extend_schema(
        operation_id="v1_routing_rules_destroy",
        summary="Delete a routing rule",
        request=None,
        responses={204: None, **DETAIL_ERRORS},
    )
    def delete(self, request, rule_id: int):
        ensure_exists(selectors.routing_rules_with_policy(), rule_id)
        config.routing_rule_delete(actor=request.user, rule_id=rule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoutingRuleMoveApi(PolicyBaseApi):
    """POST `{"by": -1}` moves the rule one place up (tried earlier), `1` one
    place down; answers every rule's id in the new order."""

    @extend_schema(
        operation_id="v1_routing_rules_move",
        summary="Move a routing rule up or down",
        request=RoutingRuleMoveInputSerializer,
        responses={200: RoutingRuleOrderOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def post(self, request, rule_id: int):
        ensure_exists(selectors.routing_rules_with_policy(), rule_id)
        data = parse(RoutingRuleMoveInputSerializer, request.data)
        order = config.routing_rule_move(actor=request.user, rule_id=rule_id, by=data["by"])
        return Response(RoutingRuleOrderOutputSerializer({"order": order}).data)
