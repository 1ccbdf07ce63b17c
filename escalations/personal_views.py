"""My notifications: where and how TSCC reaches a person when they are
paged (contact methods, notification rules per urgency, quiet hours). A
stored signing secret is never shown back, only that one is stored."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from escalations import config, selectors
from escalations.domain.notify import DEFAULT_RULES, Urgency
from escalations.forms import (
    ContactMethodEditForm,
    ContactMethodForm,
    NotificationRuleForm,
    QuietHoursForm,
)
from escalations.models import ContactMethod
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error, error_status

APP_LABEL = gettext_lazy("In-app")
URGENCY_LABELS = {
    Urgency.HIGH: gettext_lazy("High urgency (SEV0–SEV2)"),
    Urgency.LOW: gettext_lazy("Low urgency (SEV3–SEV4)"),
}


def _person(request):
    if not request.user.has_perm("escalations.manage_contacts", request.user):
        raise PermissionDenied
    return request.user


def channel_label(channel: str) -> str:
    if channel == "app":
        return str(APP_LABEL)
    return str(dict(ContactMethod.Channel.choices).get(channel, channel))


def sequence(rules, enabled_channels: set[str]) -> list[dict]:
    """Rules as steps in time order: "In-app at once → SMS after 1 min"."""
    return [
        {
            "id": getattr(rule, "id", None),
            "label": channel_label(rule.channel),
            "delay": rule.delay_minutes,
            "skipped": rule.channel != "app" and rule.channel not in enabled_channels,
        }
        for rule in sorted(rules, key=lambda r: (r.delay_minutes, r.channel != "app"))
    ]


def channel_choices(methods) -> list[tuple[str, str]]:
    """What a notification rule may use: in-app and the person's channels."""
    own = {m.channel for m in methods}
    return [("app", APP_LABEL)] + [
        (value, label) for value, label in ContactMethod.Channel.choices if value in own
    ]


def notifications_context(person, forms: dict | None = None) -> dict:
    forms = forms or {}
    methods = list(selectors.user_contact_methods(user=person))
    rules = list(selectors.user_notification_rules(user=person))
    quiet = selectors.user_quiet_hours(user=person)
    enabled = {m.channel for m in methods if m.enabled}
    channels = channel_choices(methods)
    urgencies = []
    for urgency in (Urgency.HIGH, Urgency.LOW):
        own = [r for r in rules if r.urgency == urgency.value]
        urgencies.append(
            {
                "value": urgency.value,
                "label": URGENCY_LABELS[urgency],
                "steps": sequence(own, enabled),
                "defaults": sequence([r for r in DEFAULT_RULES if r.urgency is urgency], enabled)
                if not own
                else [],
                "form": forms.get(f"rule-{urgency.value}")
                or NotificationRuleForm(
                    prefix=urgency.value,
                    channels=channels,
                    initial={"channel": "app", "delay_minutes": 0},
                ),
            }
        )
    edit = forms.get("edit")
    return {
        "person": person,
        "methods": [
            {
                "method": m,
                "form": edit[1]
                if edit and edit[0] == m.id
                else ContactMethodEditForm(
                    prefix=f"method{m.id}", initial={"address": m.address, "enabled": m.enabled}
                ),
                "open": bool(edit and edit[0] == m.id),
                "test": forms.get("test", {}).get(m.id),
            }
            for m in methods
        ],
        "method_form": forms.get("method") or ContactMethodForm(prefix="new"),
        "urgencies": urgencies,
        "quiet": quiet,
        "quiet_form": forms.get("quiet")
        or QuietHoursForm(initial={"start": quiet.start, "end": quiet.end} if quiet else None),
        "error": forms.get("error", ""),
    }


def _render(request, person, *, forms=None, status=200) -> HttpResponse:
    template = "escalations/notifications.html"
    if request.htmx:
        template += "#notifications"
    return render(request, template, notifications_context(person, forms), status=status)


def _done(request, person, anchor: str) -> HttpResponse:
    if request.htmx:
        return _render(request, person)
    return HttpResponseRedirect(reverse("escalations:me") + f"#{anchor}", status=303)


def _refused(request, person, exc: ApplicationError) -> HttpResponse:
    """A refused removal: the page again, the reason at its top."""
    return _render(request, person, forms={"error": str(exc.message)}, status=error_status(exc))


def _method(person, method_id: int) -> ContactMethod:
    method = selectors.user_contact_method_get(user=person, method_id=method_id)
    if method is None:
        raise Http404
    return method


@require_GET
@login_required
def my_notifications(request: HttpRequest) -> HttpResponse:
    return _render(request, _person(request))


@require_POST
@login_required
def method_create(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = ContactMethodForm(request.POST, prefix="new")
    status = 422
    if form.is_valid():
        try:
            config.contact_method_save(
                actor=request.user, user_id=person.id, data=dict(form.cleaned_data)
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, person, "methods")
    return _render(request, person, forms={"method": form}, status=status)


@require_POST
@login_required
def method_update(request: HttpRequest, method_id: int) -> HttpResponse:
    person = _person(request)
    method = _method(person, method_id)
    form = ContactMethodEditForm(request.POST, prefix=f"method{method.id}")
    status = 422
    if form.is_valid():
        try:
            config.contact_method_save(
                actor=request.user,
                user_id=person.id,
                method_id=method.id,
                data={"channel": method.channel, **form.cleaned_data},
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, person, "methods")
    return _render(request, person, forms={"edit": (method.id, form)}, status=status)


@require_POST
@login_required
def method_delete(request: HttpRequest, method_id: int) -> HttpResponse:
    person = _person(request)
    method = _method(person, method_id)
    try:
        config.contact_method_delete(actor=request.user, user_id=person.id, method_id=method.id)
    except ApplicationError as exc:
        return _refused(request, person, exc)
    return _done(request, person, "methods")


@require_POST
@login_required
def method_test(request: HttpRequest, method_id: int) -> HttpResponse:
    """Send a test message now; the result shows next to the method."""
    person = _person(request)
    method_id = _method(person, method_id).id
    try:
        config.contact_method_test(actor=request.user, user_id=person.id, method_id=method_id)
    except ApplicationError as exc:
        result, status = {"ok": False, "text": str(exc.message)}, error_status(exc)
    else:
        result, status = {"ok": True, "text": _("Sent. Check that it arrived.")}, 200
    if request.htmx:
        return render(
            request,
            "escalations/notifications.html#test-result",
            {"m": {"method": {"id": method_id}, "test": result}},
            status=status,
        )
    return _render(request, person, forms={"test": {method_id: result}}, status=status)


@require_POST
@login_required
def rule_create(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    # Which urgency's form was posted; it is also the form's prefix.
    urgency = request.POST.get("urgency_form", "")
    if urgency not in {u.value for u in Urgency}:
        raise Http404
    channels = channel_choices(selectors.user_contact_methods(user=person))
    form = NotificationRuleForm(request.POST, prefix=urgency, channels=channels)
    status = 422
    if form.is_valid():
        try:
            config.notification_rule_save(
                actor=request.user,
                user_id=person.id,
                data={**form.cleaned_data, "urgency": urgency},
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, person, "rules")
    return _render(request, person, forms={f"rule-{urgency}": form}, status=status)


@require_POST
@login_required
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    person = _person(request)
    if selectors.user_notification_rule_get(user=person, rule_id=rule_id) is None:
        raise Http404
    try:
        config.notification_rule_delete(actor=request.user, user_id=person.id, rule_id=rule_id)
    except ApplicationError as exc:
        return _refused(request, person, exc)
    return _done(request, person, "rules")


@require_POST
@login_required
def quiet_hours_save(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = QuietHoursForm(request.POST)
    status = 422
    if form.is_valid():
        data = {**form.cleaned_data, "enabled": "clear" not in request.POST}
        try:
            config.quiet_hours_save(actor=request.user, user_id=person.id, data=data)
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            return _done(request, person, "quiet")
    return _render(request, person, forms={"quiet": form}, status=status)
