from django.urls import path

from escalations import personal_views, policy_views, views

app_name = "escalations"

urlpatterns = [
    path("ack/<str:token>/", views.acknowledge_by_link, name="ack"),
    path("pages/", views.my_pages, name="my-pages"),
    path("pages/<int:page_id>/ack/", views.acknowledge, name="page-ack"),
    path("incidents/<int:incident_id>/pages/", views.incident_pages, name="incident-pages"),
    path("incidents/<int:incident_id>/switch/", views.incident_switch, name="incident-switch"),
    path("incidents/<int:incident_id>/page/", views.incident_page_people, name="incident-page"),
    # Paging configuration: policies and routing.
    path("policies/", policy_views.policy_list, name="policies"),
    path("policies/new/", policy_views.policy_edit, name="policy-new"),
    path("policies/level/", policy_views.policy_level_row, name="policy-level"),
    path("policies/<int:policy_id>/", policy_views.policy_edit, name="policy"),
    path("policies/<int:policy_id>/delete/", policy_views.policy_delete, name="policy-delete"),
    path("routing/", policy_views.routing, name="routing"),
    path("routing/new/", policy_views.routing_create, name="routing-create"),
    path("routing/<int:rule_id>/", policy_views.routing_update, name="routing-update"),
    path("routing/<int:rule_id>/move/", policy_views.routing_move, name="routing-move"),
    path("routing/<int:rule_id>/delete/", policy_views.routing_delete, name="routing-delete"),
    # A person's own notification settings.
    path("me/", personal_views.my_notifications, name="me"),
    path("me/methods/", personal_views.method_create, name="method-create"),
    path("me/methods/<int:method_id>/", personal_views.method_update, name="method-update"),
    path("me/methods/<int:method_id>/delete/", personal_views.method_delete, name="method-delete"),
    path("me/methods/<int:method_id>/test/", personal_views.method_test, name="method-test"),
    path("me/rules/", personal_views.rule_create, name="rule-create"),
    path("me/rules/<int:rule_id>/delete/", personal_views.rule_delete, name="rule-delete"),
    path("me/quiet-hours/", personal_views.quiet_hours_save, name="quiet-hours"),
]
