"""DRF views of the incidents API: parse, call a service or selector, serialize.

Split by sub-domain: incidents.py (list, declare, detail), actions.py
(lifecycle, severity, grade, people, links), work.py (timeline, facts,
tasks, status updates), reports.py (regulatory reports, review).
"""
