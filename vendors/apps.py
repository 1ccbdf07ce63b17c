from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = _("Vendors")

    def ready(self) -> None:
        from incidents.signals import summary_sections_requested
        from vendors.summary import on_summary_sections_requested

        summary_sections_requested.connect(
            on_summary_sections_requested, dispatch_uid="vendors.summary_sections"
        )
