from django.urls import path

from escalations import views

app_name = "escalations"

urlpatterns = [
    path("ack/<str:token>/", views.acknowledge_by_link, name="ack"),
]
