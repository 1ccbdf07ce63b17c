from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TsccConfig(AppConfig):
    name = "tscc"
    verbose_name = _("People and teams")
