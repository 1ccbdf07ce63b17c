"""Cursor pagination and its schema pieces, shared by every app's API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    """Cursor pagination: stable under inserts, no COUNT, O(page) at any
    depth. `page_size` (default 50) is capped at 200. A cursor that was not
    ours is a 400 on `cursor` (DRF answers 404, as if the list were gone)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from None


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` or `previous`."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="At most 200."),
]


def paginated(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The envelope of a cursor-paginated list of `item`, for the schema."""
    name = item.__name__.removesuffix("OutputSerializer")
    return type(
        f"Paginated{name}ListSerializer",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
