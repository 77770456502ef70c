#!/usr/bin/env python
"""Write a screenshot of each workbench page into docs/screenshots/ (PNG, palette-quantized to
stay small): Models (a profile), Hardware (a chip's sources), Estimate (two chips side by side),
Explorations (a finished job's Pareto front) and RTL (a simulated and synthesized 4x4 array).

It starts ``codesign serve`` on a free port with a fresh embedded data folder, fills it through
the workbench itself (headless Debian Chromium via Playwright), and stops it again.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--width 1280]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.headless import CHROMIUM, launch  # noqa: E402
from tests.web.workbench import ConsoleErrors, start_server, stop  # noqa: E402


def _save(page: object, path: Path, selector: str | None = None) -> None:
    from PIL import Image

    raw = path.with_suffix(".raw.png")
    if selector:
        page.locator(selector).scroll_into_view_if_needed()  # type: ignore[attr-defined]
    page.screenshot(path=str(raw))  # type: ignore[attr-defined]
    with Image.open(raw) as im:
        im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
            path, optimize=True
        )
    raw.unlink()
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
          f"({path.stat().st_size // 1024} KiB)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    if CHROMIUM is None:
        print("error: Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc, srv = start_server(Path(tmp) / "data")
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                page.set_default_timeout(180_000)
                errors = ConsoleErrors()
                errors.attach(page)

                page.goto(f"{srv.base}/#/models")
                page.get_by_label("ONNX file").set_input_files(
                    str(REPO / "examples" / "models" / "resnet18.onnx")
                )
                page.get_by_role("button", name="Upload ONNX").click()
                page.locator("#profile table caption").wait_for()
                page.locator("#profile th", has_text="MACs").get_by_role("button").click()
                _save(page, args.out / "models.png", "#profile")

                page.goto(f"{srv.base}/#/hardware?chip=h100-sxm5")
                page.locator("#chip-detail table").wait_for()
                _save(page, args.out / "hardware.png", "#chip-detail")

                page.goto(
                    f"{srv.base}/#/estimate?model=zoo:resnet18"
                    "&hw=chip:a100-sxm4-80gb&hw=chip:h100-sxm5&run=1"
                )
                page.wait_for_function(
                    "() => document.querySelectorAll('.chip-result .js-plotly-plot').length >= 10"
                )
                page.locator("#compare").evaluate("e => e.scrollIntoView()")
                page.wait_for_timeout(300)
                _save(page, args.out / "estimate.png")

                page.goto(f"{srv.base}/#/explorations")
                page.locator("input[name=rows]").fill("8,16,32,64")
                page.locator("input[name=cols]").fill("8,16,32,64")
                page.locator("input[name=dataflow]").fill("ws,os")
                page.get_by_role("button", name="Start exploration").click()
                page.wait_for_url(re.compile(r"#/explorations/[0-9a-f-]{36}$"))
                page.locator("#pareto .scatterlayer .trace path.point").first.wait_for()
                page.locator("#pareto").evaluate("e => e.scrollIntoView({block: 'center'})")
                page.wait_for_timeout(300)
                _save(page, args.out / "explorations.png")

                page.goto(f"{srv.base}/#/rtl?rows=4&cols=4&dataflow=ws")
                page.get_by_role("button", name="Generate RTL").click()
                page.locator("#rtl-result").wait_for()
                _save(page, args.out / "rtl.png", "#rtl-result")
                browser.close()
                if errors:
                    print("console errors:", *errors, sep="\n  ", file=sys.stderr)
                    return 1
        finally:
            stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
