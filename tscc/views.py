from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tscc.forms import ProfileForm
from tscc.health import run_checks
from tscc.models import ROLE_LABELS
from tscc.services import user_set_language, user_update_preferences

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
REFERENCE_ZONES = ("UTC", "Asia/Shanghai", "Europe/Dublin", "America/Los_Angeles")


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tscc/home.html",
        {
            "now": timezone.now(),
            "clock_zones": REFERENCE_ZONES,
            "role_label": ROLE_LABELS[request.user.role_enum],
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            user_update_preferences(actor=request.user, user=request.user, **form.cleaned_data)
            translation.activate(request.user.language)
            response = HttpResponseRedirect(reverse("profile") + "?saved=1")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                request.user.language,
                samesite="Lax",
                secure=request.is_secure(),
            )
            if request.htmx:
                response = HttpResponse(status=204, headers={"HX-Redirect": response.url})
            return response
        # 422 so htmx swaps the form with its errors (base.html responseHandling).
        template = "tscc/profile.html#profile-form" if request.htmx else "tscc/profile.html"
        return render(request, template, {"form": form}, status=422)
    return render(request, "tscc/profile.html", {"form": form, "saved": "saved" in request.GET})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; signed-in users keep it as their preference."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if language not in LANGUAGE_CODES:
        return HttpResponse(_("Unknown language."), status=400, content_type="text/plain")
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 86400,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = run_checks()
    return JsonResponse(report, status=200 if healthy else 503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


@never_cache
@require_GET
@login_required
def system_status(request: HttpRequest) -> HttpResponse:
    """The overview's status card: the same checks as /healthz, for people."""
    healthy, report = run_checks()
    labels = {
        "database": _("Database"),
        "redis": _("Redis"),
        "channel_layer": _("Realtime (channel layer)"),
        "celery": _("Workers (Celery)"),
    }
    rows = [
        {"label": labels[name], "ok": check["ok"], "ms": check["ms"]}
        for name, check in report["checks"].items()
    ]
    beat = report["beat"]
    if beat["state"] == "unknown":
        beat_text = _("No heartbeat seen yet")
    else:
        beat_text = _("Last heartbeat %(seconds)s s ago") % {
            "seconds": int(beat["last_seen_seconds"])
        }
    status = {"healthy": healthy, "rows": rows, "beat": beat_text}
    return render(request, "tscc/home.html#system-status", {"status": status})
