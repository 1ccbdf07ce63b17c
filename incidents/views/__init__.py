from incidents.views.actions import *  # noqa: F403
from incidents.views.pages import incident_declare_view as incident_declare_view
from incidents.views.pages import incident_detail as incident_detail
from incidents.views.pages import incident_list as incident_list
from incidents.views.pages import review_page as review_page
from incidents.views.pages import severity_preview as severity_preview
from incidents.views.room import incident_room as incident_room
