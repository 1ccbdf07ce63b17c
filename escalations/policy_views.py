"""Paging configuration pages: escalation policies (a list and an editor
whose levels are added and removed in place) and the routing rules that
choose a policy for an incident. Everyone in operations reads them; ops
managers and admins change them, through `escalations.config`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from escalations import config, selectors
from escalations.forms import LevelRow, PolicyForm, RoutingRuleForm, level_errors, levels_from_post
from escalations.models import EscalationPolicy
from incidents.labels import SEVERITY_SHORT
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error, error_status

VIEW, MANAGE = "escalations.view_policy", "escalations.manage_policy"
NAV_KEY = "paging"  # the menu entry these pages belong to (tscc.navigation)


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _done(request, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url, status=303)


def target_label(target) -> str:
    if target.kind == "schedule":
        return _("On-call: %(name)s") % {"name": target.schedule.name}
    if target.kind == "team":
        return _("Team %(name)s") % {"name": target.team.name}
    return str(target.user)


def level_summary(policy: EscalationPolicy) -> str:
    """ "1. Rita Responder, On-call: T&S Ops CN · 5 min → 2. Team Ops · 10 min" """
    parts = []
    for i, level in enumerate(policy.levels.all(), start=1):
        who = ", ".join(target_label(t) for t in level.targets.all()) or _("nobody")
        wait = _("%(n)s min") % {"n": level.wait_minutes}
        parts.append(f"{i}. {who} · {wait}")
    return " → ".join(parts)


# --- Policies -------------------------------------------------------------------


@require_GET
@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW)
    policies = list(selectors.policies_with_levels())
    empty = selectors.policy_empty_levels(policies=policies, at=timezone.now())
    return render(
        request,
        "escalations/policy_list.html",
        {
            "rows": [
                {
                    "policy": p,
                    "summary": level_summary(p),
                    "empty_levels": [position + 1 for position in empty.get(p.id, [])],
                }
                for p in policies
            ],
            "can_manage": request.user.has_perm(MANAGE),
            "nav_current": NAV_KEY,
        },
    )


def _policy(request, policy_id: int) -> EscalationPolicy:
    policy = selectors.policy_get(policy_id=policy_id) if request.user.has_perm(VIEW) else None
    if policy is None:
        raise Http404
    return policy


def _policy_form(choices, *args, **kwargs) -> PolicyForm:
    return PolicyForm(*args, teams=choices["teams"], people=choices["people"], **kwargs)


def _policy_fields(policy: EscalationPolicy) -> dict:
    """The policy's details as its editor shows them."""
    return {
        "name": policy.name,
        "team": policy.team_id or "",
        "description": policy.description,
        "repeat": policy.repeat,
        "final_user": policy.final_user_id or "",
    }


def _render_editor(request, *, policy, form, levels, choices, levels_error="", status=200):
    template = "escalations/policy_edit.html"
    if request.htmx:
        template += "#policy-editor"
    can_manage = request.user.has_perm(MANAGE)
    readonly_levels = []
    if policy is not None and not can_manage:
        readonly_levels = [
            {
                "who": ", ".join(target_label(t) for t in level.targets.all()) or _("nobody"),
                "wait": level.wait_minutes,
            }
            for level in policy.levels.all()
        ]
    return render(
        request,
        template,
        {
            "policy": policy,
            "form": form,
            "levels": levels,
            "levels_error": levels_error,
            "choices": choices,
            "can_manage": can_manage,
            "readonly_levels": readonly_levels,
            "form_url": reverse("escalations:policy", args=[policy.id])
            if policy
            else reverse("escalations:policy-new"),
            "nav_current": NAV_KEY,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    """A policy as a whole: its details and ordered levels. Without
    JavaScript, "Add level" and "Remove" post the form and come back with
    the row added or removed; nothing is saved until "Save policy"."""
    if policy_id is None:
        _require(request, MANAGE)
        policy = None
    else:
        policy = _policy(request, policy_id)
    choices = selectors.policy_target_choices()
    if request.method == "GET":
        initial = _policy_fields(policy) if policy else {"repeat": 0}
        levels = [LevelRow.from_level(level) for level in policy.levels.all()] if policy else []
        return _render_editor(
            request,
            policy=policy,
            form=_policy_form(choices, initial=initial),
            levels=levels or [LevelRow.blank()],
            choices=choices,
        )
    _require(request, MANAGE)
    form = _policy_form(choices, request.POST)
    levels = levels_from_post(request.POST)
    if "add_level" in request.POST or "remove_level" in request.POST:
        removed = request.POST.get("remove_level")
        levels = [row for row in levels if row.key != removed]
        if "add_level" in request.POST:
            levels.append(LevelRow.blank())
        form.is_valid()  # bound, so what was typed is shown again
        form.errors.clear()
        return _render_editor(request, policy=policy, form=form, levels=levels, choices=choices)
    levels_error, status = "", 422
    if form.is_valid():
        try:
            saved = config.policy_save(
                actor=request.user,
                policy_id=policy.id if policy else None,
                data={**form.data_for_service(), "levels": [row.data() for row in levels]},
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
            levels_error = level_errors(levels, getattr(exc, "fields", None) or {})
        else:
            messages.success(request, _("Policy “%(name)s” saved.") % {"name": saved.name})
            return _done(request, reverse("escalations:policies"))
    return _render_editor(
        request,
        policy=policy,
        form=form,
        levels=levels,
        choices=choices,
        levels_error=levels_error,
        status=status,
    )


@require_GET
@login_required
def policy_level_row(request: HttpRequest) -> HttpResponse:
    """A new, empty level row for the editor (htmx "Add level")."""
    _require(request, MANAGE)
    return render(
        request,
        "escalations/policy_edit.html#level-row",
        {"level": LevelRow.blank(), "choices": selectors.policy_target_choices()},
    )


@require_POST
@login_required
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _policy(request, policy_id)
    _require(request, MANAGE)
    try:
        config.policy_delete(actor=request.user, policy_id=policy.id)
    except ApplicationError as exc:
        choices = selectors.policy_target_choices()
        form = _policy_form(choices, _policy_fields(policy))
        form.is_valid()  # bound, so the refusal can sit on it
        status = apply_error(form, exc)
        return _render_editor(
            request,
            policy=policy,
            form=form,
            levels=[LevelRow.from_level(level) for level in policy.levels.all()],
            choices=choices,
            status=status,
        )
    messages.success(request, _("Policy “%(name)s” deleted.") % {"name": policy.name})
    return _done(request, reverse("escalations:policies"))


# --- Routing rules --------------------------------------------------------------------


def _routing_form(choices, *args, **kwargs) -> RoutingRuleForm:
    return RoutingRuleForm(
        *args,
        policies=choices["policies"],
        categories=choices["categories"],
        teams=choices["teams"],
        **kwargs,
    )


def _routing_choices() -> dict:
    return {
        "policies": selectors.policy_choices(),
        "categories": selectors.category_choices(),
        "teams": selectors.team_choices(),
    }


def _render_routing(
    request, *, edit_id: int | None = None, forms: dict | None = None, error="", status=200
):
    forms = forms or {}
    choices = _routing_choices()
    names = dict(choices["categories"])
    can_manage = request.user.has_perm(MANAGE)
    rows = []
    for rule in selectors.routing_rules_with_policy():
        form = None
        if can_manage and rule.id == edit_id:
            form = forms.get("edit") or _routing_form(
                choices,
                prefix=f"rule{rule.id}",
                initial={
                    "policy": rule.policy_id,
                    "severities": rule.severities,
                    "categories": rule.categories,
                    "team": rule.team_id,
                },
            )
        rows.append(
            {
                "rule": rule,
                "severities": [SEVERITY_SHORT.get(s, s) for s in rule.severities],
                "categories": [names.get(c, c) for c in rule.categories],
                "form": form,
            }
        )
    template = "escalations/routing.html"
    if request.htmx:
        template += "#routing"
    return render(
        request,
        template,
        {
            "rows": rows,
            "can_manage": can_manage,
            "add_form": forms.get("add") or _routing_form(choices, prefix="new"),
            "has_policies": bool(choices["policies"]),
            "error": error,
            "nav_current": NAV_KEY,
        },
        status=status,
    )


@require_GET
@login_required
def routing(request: HttpRequest) -> HttpResponse:
    """The rules in order; `?edit=<id>` opens one for editing in place."""
    _require(request, VIEW)
    edit = request.GET.get("edit", "")
    return _render_routing(request, edit_id=int(edit) if edit.isdigit() else None)


def _routing_done(request) -> HttpResponse:
    if request.htmx:
        return _render_routing(request)
    return HttpResponseRedirect(reverse("escalations:routing"), status=303)


@require_POST
@login_required
def routing_create(request: HttpRequest) -> HttpResponse:
    _require(request, MANAGE)
    form = _routing_form(_routing_choices(), request.POST, prefix="new")
    status = 422
    if form.is_valid():
        try:
            config.routing_rule_save(actor=request.user, data=form.cleaned_data)
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _routing_done(request)
    return _render_routing(request, forms={"add": form}, status=status)


def _rule_id(request, rule_id: int) -> int:
    """The rule's id for a change: 404 for who may not see rules or for a
    rule that is not there, 403 for who may see but not change them."""
    if not request.user.has_perm(VIEW) or selectors.routing_rule_get(rule_id=rule_id) is None:
        raise Http404
    _require(request, MANAGE)
    return rule_id


@require_POST
@login_required
def routing_update(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule_id = _rule_id(request, rule_id)
    form = _routing_form(_routing_choices(), request.POST, prefix=f"rule{rule_id}")
    status = 422
    if form.is_valid():
        try:
            config.routing_rule_save(actor=request.user, rule_id=rule_id, data=form.cleaned_data)
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _routing_done(request)
    return _render_routing(request, edit_id=rule_id, forms={"edit": form}, status=status)


@require_POST
@login_required
def routing_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule_id = _rule_id(request, rule_id)
    by = -1 if request.POST.get("by") == "up" else 1
    try:
        config.routing_rule_move(actor=request.user, rule_id=rule_id, by=by)
    except ApplicationError as exc:
        return _render_routing(request, error=str(exc.message), status=error_status(exc))
    return _routing_done(request)


@require_POST
@login_required
def routing_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule_id = _rule_id(request, rule_id)
    try:
        config.routing_rule_delete(actor=request.user, rule_id=rule_id)
    except ApplicationError as exc:
        return _render_routing(request, error=str(exc.message), status=error_status(exc))
    return _routing_done(request)
