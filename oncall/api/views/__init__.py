"""DRF views of the on-call API: parse, call a service or selector, serialize.

Split by resource: schedules.py (schedules and their layers), overrides.py
(overrides and swaps), shifts.py (who is on call, final shifts, my shifts),
feeds.py (calendar feed URLs); common.py holds what they share.
"""
