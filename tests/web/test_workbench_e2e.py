"""The workbench end to end in headless Chromium against ``codesign serve``: upload the example
ONNX, estimate it on two catalog chips and compare them, start an exploration and watch it
finish, hover and click a Pareto point, put two designs side by side, generate RTL from one and
download it; cancel and resume; a store of 1,000 jobs. No console error anywhere."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from .workbench import REPO, ConsoleErrors, Server, seed_jobs, start_server, stop

EXAMPLE_ONNX = REPO / "examples" / "models" / "resnet18.onnx"
TIMEOUT_MS = 120_000


def _page(browser: Any, errors: ConsoleErrors, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors.attach(page)
    return page


def _point_center(page: Any, index: int = 0) -> tuple[float, float]:
    """Screen position of a Pareto-front marker (the last trace of #pareto)."""
    page.locator("#pareto").scroll_into_view_if_needed()
    points = page.locator("#pareto .scatterlayer .trace").last.locator("path.point")
    box = points.nth(index).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_workbench_end_to_end(server: Server, browser: Any, tmp_path: Path) -> None:
    errors = ConsoleErrors()
    page = _page(browser, errors)

    # Models: upload the example ONNX; its per-layer profile appears and sorts by MACs
    page.goto(f"{server.base}/#/models")
    page.get_by_label("ONNX file").set_input_files(str(EXAMPLE_ONNX))
    page.get_by_role("button", name="Upload ONNX").click()
    page.get_by_text(re.compile(r"Stored resnet18 as ")).wait_for()
    page.locator("#profile table caption", has_text="layers of").wait_for()
    macs = page.locator("#profile th", has_text="MACs")
    macs.get_by_role("button").click()
    assert macs.get_attribute("aria-sort") == "descending"
    model_id = httpx.get(f"{server.api}/models").json()["items"][0]["id"]

    # Estimate: the uploaded model on two catalog chips, side by side
    page.locator("#model-list").get_by_role("link", name="Estimate").first.click()
    page.wait_for_url(re.compile(r"#/estimate\?model=id:"))
    page.get_by_label("NVIDIA A100 SXM4 80GB").check()
    page.get_by_label("NVIDIA H100 SXM5 80GB").check()
    page.get_by_role("button", name="Estimate", exact=True).click()
    table = page.locator("#compare-table")
    table.wait_for()
    assert (
        "NVIDIA A100 SXM4 80GB" in table.inner_text()
        and "NVIDIA H100 SXM5 80GB" in table.inner_text()
    )
    assert page.locator(".chip-result").count() == 2
    # each chip: latency and energy bars, roofline, energy and area breakdowns (5 charts)
    page.wait_for_function(
        "() => document.querySelectorAll('.chip-result .js-plotly-plot').length >= 10"
    )
    assert page.locator(".chip-result .scatterlayer .trace").count() >= 4  # roofline layers

    # Explorations: a 4-point systolic grid on the uploaded model, followed to completion
    page.get_by_role("link", name="Explorations").click()
    page.get_by_label("Name", exact=True).fill("e2e-grid")
    page.get_by_label("Model", exact=True).select_option(f"id:{model_id}")
    page.locator("input[name=rows]").fill("2,4")
    page.locator("input[name=cols]").fill("2,4")
    page.locator("input[name=dataflow]").fill("ws")
    page.get_by_role("button", name="Start exploration").click()
    page.wait_for_url(re.compile(r"#/explorations/[0-9a-f-]{36}$"))
    seen = set()
    status = page.locator("#job-status")
    for _ in range(600):
        seen.add(status.inner_text())
        if "succeeded" in seen or "failed" in seen:
            break
        page.wait_for_timeout(100)
    assert "succeeded" in seen, seen
    assert page.locator("#job-count").inner_text() == "4 of 4 points"
    assert page.locator("#job-progress").get_attribute("value") == "4"
    page.locator("#pareto .scatterlayer .trace path.point").first.wait_for()

    # hover a Pareto point: the design is shown
    x, y = _point_center(page)
    page.mouse.move(x - 30, y - 30)
    page.mouse.move(x, y, steps=5)
    hover = page.locator("#pareto-hover")
    page.wait_for_function(
        "() => document.getElementById('pareto-hover').textContent.startsWith('Point ')"
    )
    assert "rows=" in hover.inner_text() and "cols=" in hover.inner_text()
    page.locator("#pareto .hoverlayer .hovertext").first.wait_for()

    # two designs side by side
    boxes = page.locator("#results input[data-point]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.locator("#compare-selected").click()
    compare = page.locator("#design-compare")
    compare.wait_for()
    assert "2 designs side by side" in compare.inner_text()
    assert compare.locator("thead th").count() == 3

    # downloads: CSV and Parquet of the points
    with page.expect_download() as got:
        page.get_by_role("button", name="Download CSV").click()
    csv = Path(got.value.path()).read_text()
    assert csv.splitlines()[0].startswith("point,") and len(csv.splitlines()) == 5
    with page.expect_download() as got:
        page.get_by_role("button", name="Download Parquet").click()
    assert Path(got.value.path()).read_bytes()[:4] == b"PAR1"

    # click a Pareto point: its estimate opens and runs
    job_url = page.url
    x, y = _point_center(page)
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"#/estimate\?"))
    page.locator(".chip-result").wait_for()
    assert "systolic" in page.locator(".chip-result h2").inner_text()

    # RTL from a point of the exploration: generated, simulated, synthesized, downloaded
    page.goto(job_url)
    smallest = page.locator("#results tbody tr", has=page.locator("input[data-point='0']"))
    smallest.get_by_role("link", name="RTL").click()  # grid point 0: the 2x2 array
    page.wait_for_url(re.compile(r"#/rtl\?rows=2&cols=2&dataflow=ws"))
    assert page.get_by_label("Rows", exact=True).input_value() == "2"
    page.get_by_role("button", name="Generate RTL").click()
    page.locator("#rtl-result").wait_for()
    assert page.locator("#rtl-sim-verdict").inner_text().startswith("PASS")
    assert "Synthesis (Yosys" in page.locator("#rtl-result").inner_text()
    with page.expect_download() as got:
        page.locator("#rtl-download").click()
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    assert saved.name == "2x2-ws-int8.tar.gz"
    with tarfile.open(saved) as tar:
        assert any(n.endswith("systolic_top.v") for n in tar.getnames())

    assert errors == [], errors


def test_cancel_and_resume(server: Server, browser: Any) -> None:
    errors = ConsoleErrors(allow=(("/api/v1/explorations/validate", 422),))
    page = _page(browser, errors)
    page.goto(f"{server.base}/#/explorations")
    page.get_by_role("tab", name="YAML").click()
    text = page.locator("#yaml-text")
    # a bad document: the problem's detail shows beside the field as it is typed
    text.fill("name: broken\nmodel: {name: resnet18}\nhardware: {template: systolic, rows: [8]}\n")
    page.get_by_text("space: objectives: Field required").wait_for()
    text.fill(
        "name: long-search\nmodel: {name: resnet18}\n"
        "hardware: {template: systolic, rows: [4, 8, 16, 32, 64], cols: [4, 8, 16, 32, 64],"
        " dataflow: [ws, os, is], ifmap_sram_kb: [32, 64, 128]}\n"
        "objectives: [latency, energy]\n"
        # random search in batches of 5: a cancel is seen between batches (a grid job
        # evaluates its whole grid in one vectorized chunk)
        "search: {strategy: random, budget: 600, batch_size: 5, seed: 0}\n"
    )
    page.get_by_text("Valid: 225 grid points").wait_for()
    page.get_by_role("button", name="Start from YAML").click()
    page.wait_for_url(re.compile(r"#/explorations/[0-9a-f-]{36}$"))
    page.wait_for_function("() => Number(document.getElementById('job-progress')?.value) >= 10")
    page.locator("#job-cancel").click()
    page.wait_for_function(
        "() => document.getElementById('job-status').textContent === 'cancelled'"
    )
    stopped_at = int(page.locator("#job-progress").get_attribute("value") or 0)
    assert 0 < stopped_at < 600
    page.locator("#job-resume").click()
    try:
        page.wait_for_function(
            "() => document.getElementById('job-status').textContent === 'succeeded'",
            timeout=240_000,
        )
    except Exception:
        raise AssertionError(page.locator("main").inner_text()[:2000]) from None
    assert page.locator("#job-count").inner_text() == "600 of 600 points"
    # resumed from its checkpoint: the results count each point once
    page.locator("#results").get_by_text("600 of 600 planned").wait_for()
    assert errors == [], errors


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("crowded") / "data"
    seed_jobs(data, 1000)
    proc, srv = start_server(data)
    try:
        yield srv
    finally:
        stop(proc)


@pytest.mark.parametrize("width", [1280, 800])  # laptop and tablet
def test_pages_work_with_1000_jobs_stored(crowded: Server, browser: Any, width: int) -> None:
    errors = ConsoleErrors()
    page = _page(browser, errors, width)
    assert len(httpx.get(f"{crowded.api}/jobs?limit=500").json()["items"]) == 500
    for view in ("models", "hardware", "estimate", "rtl"):
        page.goto(f"{crowded.base}/#/{view}")
        page.locator(f"[data-page={view}] h1").wait_for()
        assert page.locator(".state.error").count() == 0
    page.goto(f"{crowded.base}/#/explorations")
    caption = page.locator("#exploration-list caption")
    caption.wait_for()
    assert caption.inner_text() == "explorations 1–20, newest first"
    assert page.locator("#exploration-list tbody tr").count() == 20
    page.get_by_role("button", name="Older").click()
    page.get_by_text("explorations 21–40, newest first").wait_for()
    # keyboard: from the top of the page, Tab reaches the navigation and Enter opens a page
    page.reload()  # focus starts at the top of the document
    page.locator("#exploration-list caption").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Hardware":
            break
    page.keyboard.press("Enter")
    page.locator("[data-page=hardware] h1").wait_for()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )  # no sideways scroll
    assert errors == [], errors


def test_hardware_form_and_zoo_knobs(server: Server, browser: Any) -> None:
    errors = ConsoleErrors(allow=(("/api/v1/hardware/templates/", 422),))
    page = _page(browser, errors, 800)  # tablet width
    page.goto(f"{server.base}/#/hardware")
    # a chip's numbers with their sources
    page.get_by_role("button", name="details of Google TPU v1").click()
    sources = page.locator("#chip-detail table")
    sources.wait_for()
    assert "compute.clock_hz" in sources.inner_text()
    # a template's field checked by the API; the message sits beside that field
    rows = page.locator("#hw-form input[name=rows]")
    rows.fill("-3")
    page.get_by_role("button", name="Check").click()
    beside = page.locator(f"#{rows.get_attribute('id')}-error")
    beside.wait_for()
    assert "compute.rows" in beside.inner_text() and rows.get_attribute("aria-invalid") == "true"
    rows.fill("24")
    page.locator("#hw-form input[name=name]").fill("my-24-array")
    page.get_by_role("button", name="Check").click()
    page.get_by_text(re.compile(r"Valid: my-24-array, systolic, 24×32 PEs")).wait_for()
    assert beside.inner_text() == ""
    page.locator("#hw-save").click()
    page.locator("#saved-hardware").get_by_text("my-24-array").wait_for()
    # reuse: the saved description is a hardware choice on the Estimate page
    page.locator("#saved-hardware").get_by_role("link", name="Estimate").click()
    page.get_by_label(re.compile(r"my-24-array \(saved")).wait_for()
    assert page.get_by_label(re.compile(r"my-24-array \(saved")).is_checked()
    # a zoo model's knobs change its profile
    page.goto(f"{server.base}/#/models")
    page.get_by_label("Zoo model").select_option("mobilenet_v2")
    page.get_by_label("resolution").fill("160")
    page.get_by_label("width").fill("0.5")
    page.get_by_role("button", name="Profile", exact=True).click()
    caption = page.locator("#profile table caption")
    caption.wait_for()
    profiled = page.locator("#profile dl").inner_text()
    assert "[1,3,160,160]" in profiled  # the resolution knob reached the model
    assert errors == [], errors


def _onnx(path: Path, nodes: list[Any], inputs: list[Any], weights: list[Any]) -> Path:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, path.stem, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        weights,
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _symbolic_seq(path: Path) -> Path:
    """x (batch, seq, 16) @ W (16, 8), then a softmax: ``seq`` needs a size (the same graph as
    tests/service/test_unresolved_upload.py). MACs: batch * seq * 16 * 8."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    return _onnx(
        path,
        [
            helper.make_node("MatMul", ["x", "W"], ["h"], name="proj"),
            helper.make_node("Softmax", ["h"], ["y"], name="softmax", axis=-1),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 16])],
        [numpy_helper.from_array(np.ones((16, 8), np.float32), "W")],
    )


def _nonzero_matmul(path: Path) -> Path:
    """(4, 8) -> NonZero -> transpose -> (N, 2) @ W (2, 3): N is only known at run time, so
    the MatMul 'mm' cannot be sized."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    return _onnx(
        path,
        [
            helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
            helper.make_node("Cast", ["nz"], ["nzf"], name="cast", to=TensorProto.FLOAT),
            helper.make_node("Transpose", ["nzf"], ["pts"], name="transpose", perm=[1, 0]),
            helper.make_node("MatMul", ["pts", "W"], ["y"], name="mm"),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
        [numpy_helper.from_array(np.ones((2, 3), np.float32), "W")],
    )


def _stored(server: Server, name: str) -> dict[str, Any]:
    (model,) = [m for m in httpx.get(f"{server.api}/models").json()["items"] if m["name"] == name]
    return dict(model)


def test_upload_binds_symbolic_dimensions(server: Server, browser: Any, tmp_path: Path) -> None:
    """The upload form sends dims and allow_unresolved; the API's 422 (naming the dimension,
    or the node) shows beside the field it is about, and the upload then succeeds."""
    errors = ConsoleErrors(allow=(("/api/v1/models", 422),))
    page = _page(browser, errors)
    page.goto(f"{server.base}/#/models")
    form = page.locator("#upload-form")
    dims = form.get_by_label("Symbolic dimensions")
    beside_dims = page.locator(f"#{dims.get_attribute('id')}-error")

    # a symbolic dimension without a size: refused, the message beside the dims field
    form.get_by_label("ONNX file").set_input_files(str(_symbolic_seq(tmp_path / "seq.onnx")))
    form.get_by_role("button", name="Upload ONNX").click()
    beside_dims.get_by_text("symbolic dimension 'seq'").wait_for()
    assert "input 'x'" in beside_dims.inner_text()
    assert dims.get_attribute("aria-invalid") == "true"
    assert "Upload failed" in form.locator(".state.error").inner_text()
    # a malformed binding: the API's own message
    dims.fill("batch=1, seq=many")
    form.get_by_role("button", name="Upload ONNX").click()
    beside_dims.get_by_text("expected NAME=SIZE").wait_for()
    # bound: stored with its sizes, and its profile uses them (1 x 128 x 16 x 8 MACs)
    dims.fill("batch=1, seq=128")
    form.get_by_role("button", name="Upload ONNX").click()
    page.get_by_text(re.compile(r"Stored seq as .* with batch=1, seq=128\.")).wait_for()
    assert beside_dims.inner_text() == "" and dims.get_attribute("aria-invalid") == "false"
    page.locator("#profile table caption", has_text="layers of").wait_for()
    assert "[1,128,16]" in page.locator("#profile dl").inner_text()
    model = _stored(server, "seq")
    assert model["summary"]["dims"] == {"batch": 1, "seq": 128}
    assert model["summary"]["macs"] == 128 * 16 * 8

    # an op no inference can size: refused naming the node, beside the checkbox; allowed, it
    # is stored and the message says what was left out
    dims.fill("")
    form.get_by_label("ONNX file").set_input_files(str(_nonzero_matmul(tmp_path / "nz.onnx")))
    form.get_by_role("button", name="Upload ONNX").click()
    allow = form.get_by_label("Allow unresolved shapes")
    beside_allow = page.locator(f"#{allow.get_attribute('id')}-error")
    beside_allow.get_by_text("'mm' (MatMul)").wait_for()
    allow.check()
    form.get_by_role("button", name="Upload ONNX").click()
    page.get_by_text(re.compile(r"Stored nz as .*1 arithmetic op left out")).wait_for()
    assert beside_allow.inner_text() == ""
    assert _stored(server, "nz")["summary"]["unresolved"] == 1
    assert errors == [], errors
