"""Every benchmark's latest results in one table (`make bench` ends with it).

Each benchmark keeps its rows in var/bench-results/<name>.json (benchlib.report);
this prints them together with when each ran. A benchmark that has not run
shows as such.

    .venv/bin/python bench/summary.py            # a text table
    .venv/bin/python bench/summary.py --markdown # for the README
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "var" / "bench-results"
ORDER = ["incidents", "oncall", "escalations", "warroom", "vendors", "trends", "load", "faults"]


def verdict(good) -> str:
    return "" if good is None else ("yes" if good else "NO")


def main() -> None:
    markdown = "--markdown" in sys.argv
    rows = []
    for bench in ORDER:
        path = RESULTS / f"{bench}.json"
        if not path.exists():
            rows.append((bench, "-", "not run", "", None))
            continue
        data = json.loads(path.read_text())
        for measure, result, target, good in data["rows"]:
            rows.append((bench, data["at"][:16].replace("T", " "), measure, result, target, good))
    if markdown:
        print("| bench | run (UTC) | measure | result | target | met |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in rows:
            if len(r) == 5:
                print(f"| {r[0]} | - | not run | | | |")
            else:
                cells = [c.replace("|", "/") for c in r[:5]]
                print(f"| {' | '.join(cells)} | {verdict(r[5])} |")
        return
    full = [r for r in rows if len(r) == 6]
    widths = [
        max([len(h)] + [len(r[i]) for r in full])
        for i, h in enumerate(("bench", "run (UTC)", "measure", "result", "target"))
    ]
    head = ("bench", "run (UTC)", "measure", "result", "target")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + "  met")
    print("  ".join("-" * w for w in widths) + "  ---")
    for r in rows:
        if len(r) == 5:
            print(f"{r[0].ljust(widths[0])}  not run")
            continue
        print(
            "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + f"  {verdict(r[5])}"
        )
    missed = [r for r in full if r[5] is False]
    print(
        f"\n{len(full)} measures, {sum(1 for r in full if r[5] is not None)} with a target, "
        f"{len(missed)} missed."
    )


if __name__ == "__main__":
    main()
