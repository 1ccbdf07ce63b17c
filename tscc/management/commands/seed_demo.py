"""Demo data: a user per role and two teams. Safe to run again and again."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

from tscc.models import Team, User
from tscc.roles import Role

DEMO_PASSWORD = "tscc-demo-2026"  # noqa: S105 - demo only; refused without DEBUG or --force  # nosec B105

TEAMS = [
    {
        "slug": "ts-ops-cn",
        "name": "T&S Ops CN",
        "time_zone": "Asia/Shanghai",
        "description": "Trust & Safety operations, mainland China markets.",
    },
    {
        "slug": "ts-ops-intl",
        "name": "T&S Ops Intl",
        "time_zone": "Europe/Dublin",
        "description": "Trust & Safety operations, international markets.",
    },
]

USERS = [
    {
        "username": "admin",
        "display_name": "Admin",
        "role": Role.ADMIN,
        "language": "en",
        "time_zone": "Asia/Shanghai",
        "teams": ["ts-ops-cn"],
    },
    {
        "username": "manager",
        "display_name": "王敏 Wang Min",
        "role": Role.OPS_MANAGER,
        "language": "zh-hans",
        "time_zone": "Asia/Shanghai",
        "teams": ["ts-ops-cn"],
    },
    {
        "username": "responder",
        "display_name": "李雷 Li Lei",
        "role": Role.RESPONDER,
        "language": "zh-hans",
        "time_zone": "Asia/Shanghai",
        "teams": ["ts-ops-cn"],
    },
    {
        "username": "responder-dub",
        "display_name": "Aoife Byrne",
        "role": Role.RESPONDER,
        "language": "en",
        "time_zone": "Europe/Dublin",
        "teams": ["ts-ops-intl"],
    },
    {
        "username": "bpo-lead",
        "display_name": "Maria Santos",
        "role": Role.BPO_LEAD,
        "language": "en",
        "time_zone": "Asia/Manila",
        "teams": [],
    },
    {
        "username": "exec",
        "display_name": "陈静 Chen Jing",
        "role": Role.EXECUTIVE,
        "language": "zh-hans",
        "time_zone": "Asia/Shanghai",
        "teams": [],
    },
]


class Command(BaseCommand):
    help = "Load demo users and teams (idempotent). Refuses to run with DEBUG off unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow with DEBUG off.")

    @transaction.atomic
    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force and not settings.TESTING:
            raise CommandError("seed_demo creates users with a known password; use --force.")
        teams = {}
        for spec in TEAMS:
            team, _ = Team.objects.update_or_create(slug=spec["slug"], defaults=spec)
            teams[team.slug] = team
        for spec in USERS:
            spec = dict(spec)
            team_slugs = spec.pop("teams")
            user, created = User.objects.update_or_create(
                username=spec["username"],
                defaults={
                    **spec,
                    "email": f"{spec['username']}@tscc.example",
                    "is_staff": spec["role"] == Role.ADMIN,
                    "is_superuser": spec["role"] == Role.ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.teams.set([teams[s] for s in team_slugs])
        # Each app seeds its own demo data; tscc knows them only by dotted path.
        for path in settings.DEMO_SEEDERS:
            import_string(path)(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {len(USERS)} users, {len(TEAMS)} teams.")
        )
