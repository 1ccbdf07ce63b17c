"""The API's JSON parser: DRF's, with a body nested past Python's recursion
limit (`[[[[...`) answered 400 like any other bad JSON instead of a 500."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The body is not valid JSON.")) from None
