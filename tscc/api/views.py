from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tscc.forms import time_zone_choices
from tscc.services import user_update_preferences


class MeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.CharField()
    language = serializers.CharField()
    time_zone = serializers.CharField()
    teams = serializers.SerializerMethodField()

    def get_teams(self, user) -> list[str]:
        return [team.slug for team in user.teams.all()]


def _zone_names() -> list[str]:
    return [z for _group, zones in time_zone_choices() for z, _label in zones]


class MeApi(APIView):
    """The signed-in user: who they are, their role, language and time zone."""

    class InputSerializer(serializers.Serializer):
        display_name = serializers.CharField(max_length=120, allow_blank=True, required=False)
        language = serializers.ChoiceField(choices=["en", "zh-hans"], required=False)
        time_zone = serializers.ChoiceField(choices=_zone_names(), required=False)

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=InputSerializer, responses=MeOutputSerializer)
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_update_preferences(actor=request.user, user=request.user, **data.validated_data)
        return Response(MeOutputSerializer(user).data)
