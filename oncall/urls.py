from django.urls import path

from oncall import views

app_name = "oncall"

urlpatterns = [
    path("", views.schedule_list, name="schedules"),
    path("new/", views.schedule_create, name="create"),
    path("me/", views.my_oncall, name="me"),
    path("me/feed/", views.feed_create, name="my-feed"),
    path("<int:schedule_id>/", views.schedule_detail, name="detail"),
    path("<int:schedule_id>/layers/", views.layer_create, name="layers"),
    path("layers/<int:layer_id>/edit/", views.layer_edit, name="layer-edit"),
    path("layers/<int:layer_id>/end/", views.layer_end, name="layer-end"),
    path("<int:schedule_id>/overrides/", views.override_create, name="overrides"),
    path("overrides/<int:override_id>/delete/", views.override_delete, name="override-delete"),
    path("<int:schedule_id>/feed/", views.feed_create, name="feed"),
    path("feeds/<int:feed_id>/revoke/", views.feed_revoke, name="feed-revoke"),
]
