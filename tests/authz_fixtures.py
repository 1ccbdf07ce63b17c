"""The world the authorization matrix (tests/test_authz_matrix.py) asks about,
and its callers.

One incident commanded by a responder (`commander`) and joined by another
(`member`, who is also in the team owning the schedule), a second incident,
a task, a regulatory report, a key fact, vendor A (site, queue, token, an
impact on the incident, BPO lead `lead_a`) and vendor B (`lead_b`), a
schedule with a layer, an override and a feed, an escalation policy with a
routing rule, a page to `member` (and its ack link), contact methods and a
notification rule of `member`, an integration, a weekly report list.

Callers are named by what they are: `anonymous`, `manager`, `responder` (in
no incident nor team), `member`, `commander`, `executive`, `admin`,
`lead_a`, `lead_b`; API-token callers are `token:<caller>`, vendor tokens
`vendor:a` and `vendor:b`.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.test import Client
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory
from tests.incidents.factories import declare
from tests.vendors.builders import vendor_with_site_and_queue
from tscc.roles import Role

SESSION_CALLERS = (
    "anonymous",
    "manager",
    "responder",
    "member",
    "commander",
    "executive",
    "admin",
    "lead_a",
    "lead_b",
)
USER_CALLERS = SESSION_CALLERS[1:]
TOKEN_CALLERS = tuple(f"token:{c}" for c in USER_CALLERS)
VENDOR_TOKEN_CALLERS = ("vendor:a", "vendor:b")


def build_world() -> SimpleNamespace:
    """Everything, made once (through the services where they are cheap)."""
    from escalations import services as escalation_services
    from escalations.models import (
        ContactMethod,
        Escalation,
        EscalationPolicy,
        Integration,
        NotificationRule,
        Page,
        RoutingRule,
    )
    from incidents.models import RegulatoryReport
    from incidents.services import incident_add_note, incident_join, incident_task_create
    from oncall import services as oncall_services
    from tscc.services import api_token_create
    from vendors import services as vendor_services

    w = SimpleNamespace()
    team = TeamFactory(slug="authz-team", name="Authz team")
    w.team = team
    w.manager = UserFactory(username="az-manager", role=Role.OPS_MANAGER)
    w.responder = UserFactory(username="az-responder", role=Role.RESPONDER)
    w.member = UserFactory(username="az-member", role=Role.RESPONDER)
    w.commander = UserFactory(username="az-commander", role=Role.RESPONDER)
    w.executive = UserFactory(username="az-executive", role=Role.EXECUTIVE)
    w.admin = UserFactory(username="az-admin", role=Role.ADMIN, is_staff=True)
    w.lead_a = UserFactory(username="az-lead-a", role=Role.BPO_LEAD)
    w.lead_b = UserFactory(username="az-lead-b", role=Role.BPO_LEAD)
    w.member.teams.add(team)

    # Incidents.
    w.incident = declare(w.manager, commander=w.commander)
    incident_join(actor=w.member, incident_id=w.incident.id)
    w.other_incident = declare(w.manager, title="Another incident")
    w.note = incident_add_note(actor=w.commander, incident_id=w.incident.id, text="A fact")
    w.task = incident_task_create(actor=w.commander, incident_id=w.incident.id, title="Look")
    w.report = RegulatoryReport.objects.create(
        incident=w.incident,
        kind=RegulatoryReport.Kind.INITIAL,
        authority="CAC",
        due_at=timezone.now() + timedelta(hours=4),
    )

    # Vendors: A (the objects' vendor) and B.
    w.vendor, w.site, w.queue = vendor_with_site_and_queue(w.manager, team, code="az-a")
    w.other_vendor = vendor_services.vendor_create(
        actor=w.manager, code="az-b", name="Vendor B", team=team, owner=w.manager
    )
    w.vendor_token, w.vendor_secret_a = vendor_services.token_create(
        actor=w.manager, vendor_id=w.vendor.id, name="feed A"
    )
    _token_b, w.vendor_secret_b = vendor_services.token_create(
        actor=w.manager, vendor_id=w.other_vendor.id, name="feed B"
    )
    vendor_services.membership_set(actor=w.manager, vendor_id=w.vendor.id, user_id=w.lead_a.id)
    vendor_services.membership_set(
        actor=w.manager, vendor_id=w.other_vendor.id, user_id=w.lead_b.id
    )
    w.impact = vendor_services.impact_link(
        actor=w.manager, incident_id=w.incident.id, vendor_id=w.vendor.id
    )

    # On call.
    now = timezone.now()
    w.schedule = oncall_services.schedule_save(
        actor=w.manager, name="Authz rota", time_zone="Asia/Shanghai", team=team
    )
    w.layer = oncall_services.layer_create(
        actor=w.manager,
        schedule=w.schedule,
        name="Primary",
        users=[w.member],
        unit="weeks",
        count=1,
        anchor=now - timedelta(days=1),
    )
    w.override = oncall_services.override_create(
        actor=w.manager,
        schedule=w.schedule,
        user=w.member,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=2),
    )
    w.feed, w.feed_secret = oncall_services.feed_create(actor=w.member, schedule=w.schedule)

    # Paging.
    w.policy = EscalationPolicy.objects.create(name="Authz policy", team=team)
    w.routing_rule = RoutingRule.objects.create(policy=w.policy, position=50)
    # A page by hand to the member, as incident_page_people records one
    # (without its deliveries: nothing is sent).
    escalation = Escalation.objects.create(
        incident=w.incident,
        kind=Escalation.Kind.ADHOC,
        snapshot={
            "name": "",
            "adhoc": True,
            "by": str(w.manager),
            "message": "Help",
            "users": [w.member.id],
            "schedules": [],
            "levels": [],
            "repeat": 0,
            "final": [],
        },
        started_by=w.manager,
    )
    w.page = Page.objects.create(escalation=escalation, user=w.member, step=0)
    w.ack_token = escalation_services.ack_token(w.page.id)
    w.method = ContactMethod.objects.create(
        user=w.member, channel=ContactMethod.Channel.EMAIL, address="member@example.test"
    )
    w.notification_rule = NotificationRule.objects.create(
        user=w.member, channel="app", delay_minutes=0, urgency="high"
    )
    w.integration = Integration.objects.create(
        name="Authz monitor", token_hash="0" * 64, prefix="int_0000", created_by=w.manager
    )

    # Summaries: a weekly report list, where the model exists yet.
    try:
        from incidents.models import WeeklyReportList
    except ImportError:
        w.weekly_list = None
    else:
        w.weekly_list = WeeklyReportList.objects.create(
            name="Authz weekly", recipients="someone@example.test", created_by=w.manager
        )

    # API tokens of every person.
    w.api_secrets = {}
    for name in USER_CALLERS:
        user = getattr(w, name)
        _token, secret = api_token_create(actor=None, user=user, name=f"authz {name}")
        w.api_secrets[name] = secret
    return w


def clients_for(world) -> dict[str, Client]:
    """One client per caller, signed in (or carrying its token) once."""
    clients = {"anonymous": Client()}
    for name in USER_CALLERS:
        client = Client()
        client.force_login(getattr(world, name))
        clients[name] = client
        clients[f"token:{name}"] = Client(
            headers={"Authorization": f"Bearer {world.api_secrets[name]}"}
        )
    clients["vendor:a"] = Client(headers={"Authorization": f"Vendor {world.vendor_secret_a}"})
    clients["vendor:b"] = Client(headers={"Authorization": f"Vendor {world.vendor_secret_b}"})
    return clients
