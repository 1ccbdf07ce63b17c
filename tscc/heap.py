"""The garbage collector's settings for a long-running web process.

Called once Django is loaded (tscc/asgi.py; the benches call it the same way):

- Start-up's objects (modules, settings, URL and template machinery) live as
  long as the process: they are moved out of every collection (gc.freeze),
  so a full collection scans what requests and sockets allocate, not the
  whole of Django.
- A page such as the ops board allocates a few hundred thousand objects,
  almost none in reference cycles. With CPython's default thresholds
  (700, 10, 10) that is hundreds of young collections and one or two full
  ones per request; at (50,000, 20, 100) young collections are rarer and a
  full one is a rare event. Measured on the ops board (bench/vendors.py
  data, 2 cores): page p50 119-134 -> 94-99 ms, p95 150-191 -> 125-136 ms.
  The price is memory held a little longer by young garbage in cycles,
  bounded by the thresholds.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
