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

# Another app asks for people to be paged for an incident, now, beside its
# policy (vendors: a vendor's escalation contacts when its trouble opens an
# incident); escalations listens. actor_id is who asks (may act on it).
incident_paging_requested = Signal()  # incident_id, actor_id, user_ids, message

# Asked (not told) by the war room's presence panel: who was paged for the
# incident. Receivers return {user_id: {"state": str, "label": str, "at": datetime}}
# for people paged and not stood down; incidents reads the answers without
# importing the app that pages.
room_paged_people = Signal()  # incident_id


def send_on_commit(signal: Signal, **kwargs) -> None:
    # robust: a failing receiver is logged; the durable rows it reacts to
    # (timers, pages) are swept, so nothing is lost.
    transaction.on_commit(lambda: signal.send(sender="incidents", **kwargs), robust=True)
