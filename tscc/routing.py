from django.urls import path
from django.utils.module_loading import import_string

from tscc.consumers import LiveConsumer

# tscc composes the apps by dotted strings and never imports them (import-linter).
WarRoomConsumer = import_string("incidents.consumers.WarRoomConsumer")
BoardConsumer = import_string("vendors.consumers.BoardConsumer")

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/incidents/<int:incident_id>/", WarRoomConsumer.as_asgi()),
    path("ws/vendors/board/", BoardConsumer.as_asgi()),
]
