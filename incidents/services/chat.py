"""War-room chat: messages are timeline events (kind "message").

A message is committed before anyone is shown it: the fragment leaves after
commit like every other timeline append (incidents.events). Pinning a message
and marking it as a decision reuse the key-fact and decision services.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from incidents.events import on_commit_notify
from incidents.exceptions import InvalidInput
from incidents.models import Incident, TimelineEvent
from incidents.services.common import ensure, event_of, incident_lock, timeline_append
from incidents.services.work import incident_pin_fact, incident_record_decision

MAX_MESSAGE = 4000
MAX_MENTIONS = 20
# @username, as Django usernames are spelled (letters, digits, . + - _), not
# ending in a full stop ("thanks @bob." mentions bob), not inside an address.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")


def mention_names(text: str) -> list[str]:
    """The distinct @names in `text`, lower-cased, in order of appearance."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text):
        seen.setdefault(match[1].lower())
    return list(seen)


def _mentioned_users(incident: Incident, text: str) -> dict[str, int]:
    """Existing active users named in `text`: lower-cased username -> id."""
    names = mention_names(text)[:MAX_MENTIONS]
    if not names:
        return {}
    query = Q()
    for name in names:
        query |= Q(username__iexact=name)
    found = {
        user.username.lower(): user.id
        for user in get_user_model().objects.filter(query, is_active=True).only("id", "username")
    }
    return {name: found[name] for name in names if name in found}


@transaction.atomic
def incident_chat_post(
    *, actor, incident_id: int, text: str, reply_to_seq: int | None = None
) -> TimelineEvent:
    """Post a message to the incident's room (its timeline). @mentions of
    existing active users are stored (`data["mentions"]`, ids) and notified
    after commit, to those who may see the incident."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write a message first."), fields={"text": _("Required.")})
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(
            _("A message has at most %(n)s characters.") % {"n": MAX_MESSAGE},
            fields={"text": _("At most %(n)s characters.") % {"n": MAX_MESSAGE}},
        )
    reply_to = None
    if reply_to_seq is not None:
        reply_to = event_of(incident, field="reply_to", seq=reply_to_seq)
    mentioned = _mentioned_users(incident, text)
    event = timeline_append(
        incident=incident,
        kind=TimelineEvent.Kind.MESSAGE,
        actor=actor,
        text=text,
        data={
            "mentions": list(mentioned.values()),
            "mention_names": mentioned,
            **({"reply_to": reply_to.seq} if reply_to else {}),
        },
        refers_to=reply_to,
    )
    others = [uid for uid in mentioned.values() if uid != actor.id]
    if others:
        viewers = [
            user.id
            for user in get_user_model().objects.filter(id__in=others)
            if user.has_perm("incidents.view_incident", incident)
        ]
        on_commit_notify(
            viewers,
            text=_("%(ref)s: %(name)s mentioned you: %(text)s")
            % {
                "ref": incident.reference,
                "name": str(actor),
                "text": Truncator(text).chars(140),
            },
        )
    return event


@transaction.atomic
def incident_message_pin(actor, incident_id: int, seq: int) -> TimelineEvent:
    """Pin a room message as a key fact (the key-fact service; a pin is an event)."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    message = event_of(incident, field="seq", seq=seq, kind=TimelineEvent.Kind.MESSAGE)
    return incident_pin_fact(actor=actor, incident_id=incident_id, event_id=message.id)


@transaction.atomic
def incident_message_decide(actor, incident_id: int, seq: int) -> TimelineEvent:
    """Record a room message as a decision (the decision log), referring to it."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    message = event_of(incident, field="seq", seq=seq, kind=TimelineEvent.Kind.MESSAGE)
    return incident_record_decision(
        actor=actor, incident_id=incident_id, text=message.text, refers_to_id=message.id
    )
