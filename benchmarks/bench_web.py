#!/usr/bin/env python
"""First render of the workbench at ``/`` with 1,000 stored jobs (printed, never asserted).

``codesign serve`` runs on the embedded default (SQLite in a fresh data folder, in-process
worker) after 1,000 exploration and RTL jobs were stored in it; headless Chromium (Debian's,
through Playwright) opens ``/`` in a fresh context each time, so nothing is cached. Times are
wall clock from the navigation until the page's first view is drawn from the API:

* ``/`` (the Models page): its heading, the zoo picker and the uploaded-models list answered;
* ``/#/explorations``: the newest 20 jobs in the table (the list endpoints are paginated: the
  page never asks for all 1,000);
* ``/#/hardware``: the catalog table.

The target is under 1 s for ``/``.

    .venv/bin/python benchmarks/bench_web.py [--jobs 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.headless import CHROMIUM, launch  # noqa: E402
from tests.web.workbench import seed_jobs, start_server, stop  # noqa: E402

PAGES = {
    "/": "#model-list table, #model-list .state.empty",
    "/#/explorations": "#exploration-list tbody tr",
    "/#/hardware": "[data-page=hardware] table.data tbody tr",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if CHROMIUM is None:
        print("error: Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    import httpx
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        seed_jobs(data, args.jobs)
        print(f"stored {args.jobs} jobs in {time.perf_counter() - t0:.1f} s")
        proc, srv = start_server(data)
        try:
            first = httpx.get(f"{srv.api}/explorations?limit=20")
            print(f"GET /api/v1/explorations?limit=20: {len(first.content) / 1024:.1f} KiB, "
                  f"{len(first.json()['items'])} items")  # fmt: skip
            with sync_playwright() as pw:
                browser = launch(pw)
                print(f"{'page':<18} {'median':>9} {'min':>9} {'max':>9}  ({args.runs} cold runs)")
                for path, ready in PAGES.items():
                    times = []
                    for _ in range(args.runs):
                        context = browser.new_context(viewport={"width": 1280, "height": 800})
                        page = context.new_page()
                        start = time.perf_counter()
                        page.goto(f"{srv.base}{path}")
                        page.locator(ready).first.wait_for(timeout=30_000)
                        times.append(time.perf_counter() - start)
                        context.close()
                    print(f"{path:<18} {statistics.median(times) * 1e3:>7.0f} ms "
                          f"{min(times) * 1e3:>6.0f} ms {max(times) * 1e3:>6.0f} ms")  # fmt: skip
                browser.close()
        finally:
            stop(proc)
    print("target: first render of / under 1 s with 1,000 stored jobs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
