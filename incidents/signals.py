"""What incidents tell the other apps, after commit, as ids (ARCHITECTURE.md).

escalations and vendors connect receivers; incidents never imports them.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

incident_declared = Signal()  # incident_id
incident_severity_changed = Signal()  # incident_id, previous, current
incident_state_changed = Signal()  # incident_id, previous, current
incident_commander_changed = Signal()  # incident_id, user_id

# Another app asks for people to be paged for an incident, beside its policy;
# escalations listens. Keyword arguments:
#   incident_id, actor_id: the incident; who asks (must be able to act on it).
#   message: str, optional, shown with the pages (at most 500 characters).
#   user_ids: [int], optional: people paged now, at once (a page by hand).
#   levels: [{"wait_minutes": int >= 1, "user_ids": [int, ...]}, ...], optional,
#       level 1 first: an escalation policy of the asker's, run beside the
#       incident's own like a policy: level 1 paged now, each next level
#       after the previous level's wait unless someone of it acknowledged.
#       (vendors: a vendor's escalation levels when its trouble opens an incident.)
#   name: str, with levels: what the incident page and timeline call it.
#   key: str, optional, with levels (default: name): while an escalation with
#       this key is active for the incident, asking again pages nobody new.
incident_paging_requested = Signal()

# Asked (not told) by the war room's presence panel: who was paged for the
# incident. Receivers return {user_id: {"state": str, "label": str, "at": datetime}}
# for people paged and not stood down; incidents reads the answers without
# importing the app that pages.
room_paged_people = Signal()  # incident_id

# Asked by the summaries (trends page, weekly report, metrics API): sections
# other apps add for a period. Receivers return incidents.sections.SummarySection
# (or a list); see incidents/sections.py.
summary_sections_requested = Signal()  # start, end, time_zone


def send_on_commit(signal: Signal, **kwargs) -> None:
    # robust: a failing receiver is logged; the durable rows it reacts to
    # (timers, pages) are swept, so nothing is lost.
    transaction.on_commit(lambda: signal.send(sender="incidents", **kwargs), robust=True)
