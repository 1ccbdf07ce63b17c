"""The escalations API under /api/v1/: parse, call a service or selector, serialize.

Split by resource: alerts.py (monitoring tools deliver alerts, with their own
token), policies.py (escalation policies and routing rules), personal.py
(the caller's contact methods, notification rules and quiet hours), pages.py
(the caller's pages, an incident's paging history and policy switch);
common.py holds the gates and loaders they share, serializers.py the shapes.
"""
