"""The ASGI process's garbage-collector settings (tscc/heap.py), checked in a
fresh interpreter that loads tscc.asgi as uvicorn does."""

import os
import subprocess
import sys
from pathlib import Path

from tscc import heap

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_asgi_application_freezes_start_up_and_raises_the_thresholds():
    probe = "import gc; import tscc.asgi; print(gc.get_threshold()); print(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tscc.settings"}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split("\n")
    assert out[0] == str(heap.THRESHOLDS)
    # Django's modules, settings and URL machinery are frozen: tens of thousands.
    assert int(out[1]) > 20_000
