"""The public iCal feed URL, included by tscc.urls under oncall/ical/ (apart
from oncall.urls, whose pages all need a login)."""

from django.urls import path

from oncall.feeds import ical_feed

urlpatterns = [
    path("<str:token>.ics", ical_feed, name="oncall-ical-feed"),
]
