from django.urls import path

from escalations import views

app_name = "escalations"

urlpatterns = [
    path("ack/<str:token>/", views.acknowledge_by_link, name="ack"),
    path("pages/", views.my_pages, name="my-pages"),
    path("pages/<int:page_id>/ack/", views.acknowledge, name="page-ack"),
    path("incidents/<int:incident_id>/pages/", views.incident_pages, name="incident-pages"),
]
