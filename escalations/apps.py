from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = _("Escalations")

    def ready(self) -> None:
        from escalations import checks, receivers  # noqa: F401 - signals and system checks
