"""The on-call API under /api/v1/oncall/ (included by tscc.urls by dotted path)."""

from django.urls import path

from oncall.api.views import feeds, overrides, schedules, shifts

SCHEDULE = "schedules/<int:schedule_id>/"

urlpatterns = [
    path("schedules/", schedules.ScheduleListApi.as_view(), name="api-oncall-schedules"),
    path(SCHEDULE, schedules.ScheduleDetailApi.as_view(), name="api-oncall-schedule"),
    path(f"{SCHEDULE}layers/", schedules.LayerListApi.as_view(), name="api-oncall-layers"),
    path("layers/<int:layer_id>/", schedules.LayerDetailApi.as_view(), name="api-oncall-layer"),
    path(f"{SCHEDULE}overrides/", overrides.OverrideListApi.as_view(), name="api-oncall-overrides"),
    path(
        "overrides/<int:override_id>/",
        overrides.OverrideDetailApi.as_view(),
        name="api-oncall-override",
    ),
    path(f"{SCHEDULE}swaps/", overrides.SwapApi.as_view(), name="api-oncall-swaps"),
    path(f"{SCHEDULE}oncall/", shifts.ScheduleOnCallApi.as_view(), name="api-oncall-schedule-now"),
    path(f"{SCHEDULE}shifts/", shifts.ScheduleShiftsApi.as_view(), name="api-oncall-shifts"),
    path("oncall/now/", shifts.OnCallNowApi.as_view(), name="api-oncall-now"),
    path("me/shifts/", shifts.MyShiftsApi.as_view(), name="api-oncall-my-shifts"),
    path("feeds/", feeds.CalendarFeedListApi.as_view(), name="api-oncall-feeds"),
    path("feeds/<int:feed_id>/", feeds.CalendarFeedDetailApi.as_view(), name="api-oncall-feed"),
]
