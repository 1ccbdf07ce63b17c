from django.utils import timezone

from incidents.domain.severity import ImpactAnswers
from incidents.models import Category
from incidents.services import Declaration, incident_declare
from tests.factories import UserFactory
from tscc.roles import Role


def category(code: str = "viral_harm") -> Category:
    return Category.objects.get(code=code)


def declare(actor=None, **overrides):
    """Declare through the real service (the only way incidents are born)."""
    actor = actor or UserFactory(role=Role.OPS_MANAGER)
    fields = {
        "title": "Scam links trending in search",
        "category": category(overrides.pop("category_code", "spam_flood")),
        "answers": ImpactAnswers(reach=2),
        "discovered_at": timezone.now(),
    }
    fields.update(overrides)
    return incident_declare(actor=actor, declaration=Declaration(**fields))
