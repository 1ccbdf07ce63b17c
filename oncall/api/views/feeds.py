"""Calendar feeds: secret, revocable iCal URLs for a schedule or one's own
shifts. Only a prefix of the secret is stored in the clear, so the URL is
shown once, when made."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall.api.serializers.inputs import CalendarFeedCreateInputSerializer
from oncall.api.serializers.outputs import (
    CalendarFeedCreatedOutputSerializer,
    CalendarFeedOutputSerializer,
)
from oncall.api.views.common import NOT_FOUND, REFUSED, WRITE_ERRORS, parse, require_oncall
from oncall.models import CalendarFeed
from oncall.selectors import schedule_visible_to
from oncall.services import feed_create, feed_revoke


class CalendarFeedListApi(APIView):
    """GET: your live feeds (prefix only). POST: a new feed for a schedule
    (`schedule`) or for your own shifts; 201 with its secret `url`, which
    is never shown again."""

    @extend_schema(
        operation_id="v1_oncall_feeds_list",
        responses={200: CalendarFeedOutputSerializer(many=True), 403: REFUSED},
    )
    def get(self, request):
        require_oncall(request.user)
        feeds = CalendarFeed.objects.filter(
            owner=request.user, revoked_at__isnull=True
        ).select_related("schedule")
        return Response(CalendarFeedOutputSerializer(feeds, many=True).data)

    @extend_schema(
        operation_id="v1_oncall_feeds_create",
        request=CalendarFeedCreateInputSerializer,
        responses={201: CalendarFeedCreatedOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        schedule_id = parse(CalendarFeedCreateInputSerializer, request.data)["schedule"]
        schedule = None
        if schedule_id is not None:
            schedule = schedule_visible_to(request.user).filter(id=schedule_id).first()
            if schedule is None:
                raise serializers.ValidationError({"schedule": [_("Unknown schedule.")]})
        feed, token = feed_create(actor=request.user, schedule=schedule)
        path = reverse("oncall-ical-feed", kwargs={"token": token})
        feed.url = request.build_absolute_uri(path)
        return Response(
            CalendarFeedCreatedOutputSerializer(feed).data, status=status.HTTP_201_CREATED
        )


class CalendarFeedDetailApi(APIView):
    """DELETE: revoke a feed (its owner, or an ops manager or admin); the URL
    stops working at once. Revoking twice is harmless."""

    @extend_schema(
        operation_id="v1_oncall_feeds_destroy",
        request=None,
        responses={204: None, 403: REFUSED, 404: NOT_FOUND},
    )
    def delete(self, request, feed_id: int):
        feed = get_object_or_404(CalendarFeed, id=feed_id)
        feed_revoke(actor=request.user, feed_id=feed.id)
        return Response(status=status.HTTP_204_NO_CONTENT)
