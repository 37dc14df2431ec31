"""The real thing: JupyterLab in headless Chromium, 01_quickstart, Train, live points, Stop.

Needs the Debian ``chromium`` (``.ci/run`` installs it) and Playwright driving it through
``executable_path``; skips where either is missing. Screenshots of the panel before and
after training land in ``$WORKBENCH_SCREENSHOTS`` (default: the test's tmp dir).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook_without_blocking_cells(target: Path) -> None:
    """01_quickstart up to the panel: a cell that waits on a run would keep the kernel from Stop clicks."""
    nb = json.loads((ROOT / "notebooks" / "01_quickstart.ipynb").read_text())
    cells = []
    for cell in nb["cells"]:
        cells.append(cell)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = "".join(cell["source"]) + "\nSTEPS = 3000  # long enough to press Stop"
        if "wb.Workbench(" in "".join(cell["source"]):
            break
    nb["cells"] = cells
    target.write_text(json.dumps(nb))


@pytest.fixture
def lab(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    pytest.importorskip("playwright")
    _notebook_without_blocking_cells(tmp_path / "quickstart.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within a minute")
        yield f"{base}/lab/tree/quickstart.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return kernel && kernel.status === 'idle';
}"""
_CLIPPED = """() => {
  // Settings fields whose right edge runs past the column that holds them (cut off, not wrapped).
  const fields = [...document.querySelectorAll('.widget-text input, .widget-dropdown select, .widget-combobox input')];
  return fields.filter(f => f.offsetParent !== null).filter(f => {
    const column = f.closest('.widget-vbox');
    return column && f.getBoundingClientRect().right > column.getBoundingClientRect().right + 0.5;
  }).map(f => f.closest('.widget-inline-hbox').innerText.trim().split('\\n')[0]);
}"""
_X_RANGE = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const loss = plots.find(p => (p.data || []).some(t => t.name === 'train loss'));
  const steps = loss.data.find(t => t.name === 'train loss').x;
  const evals = loss.data.find(t => t.name === 'validation loss').x;
  const shown = loss._fullLayout.xaxis.range;
  return {shown: shown, first: steps[0], last: steps[steps.length - 1], evals: [...evals]};
}"""
_POINTS = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const loss = plots.find(p => (p.data || []).some(t => t.name === 'train loss'));
  return loss ? loss.data.find(t => t.name === 'train loss').x.length : -1;
}"""


def test_quickstart_trains_live_and_stops_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("WORKBENCH_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(lab)
        page.wait_for_function(_KERNEL_IDLE, timeout=120_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        train = page.get_by_role("button", name="Train")
        expect(train).to_be_visible(timeout=180_000)
        expect(page.get_by_text("trainable", exact=False).first).to_be_visible(timeout=60_000)
        page.wait_for_function(f"({_POINTS})() === 0", timeout=60_000)  # the empty loss chart is drawn
        # The file browser is open: at 1280 px no settings field is cut off; at 1024 px the columns wrap instead.
        assert page.evaluate(_CLIPPED) == []
        page.set_viewport_size({"width": 1024, "height": 800})
        time.sleep(0.5)
        assert page.evaluate(_CLIPPED) == []
        page.get_by_text("prefix-workbench", exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(shots / "panel-1024.png"))
        page.set_viewport_size({"width": 1280, "height": 800})
        page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
        no_news = page.get_by_role("button", name="No", exact=True)
        if no_news.count():
            no_news.first.click()
        title = page.get_by_text("prefix-workbench", exact=True)
        title.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(shots / "panel-before.png"))

        train.click()
        page.wait_for_function(f"({_POINTS})() >= 55", timeout=180_000)  # past the first evaluation (step 50)
        first = page.evaluate(_POINTS)
        page.wait_for_function(f"({_POINTS})() > {first}", timeout=60_000)  # still gaining points
        page.get_by_role("button", name="Stop").first.click()  # the panel's; the sweep area has its own below
        expect(page.get_by_text("stopped at step", exact=False)).to_be_visible(timeout=30_000)
        time.sleep(1.5)  # the last chart redraw after the end event
        stopped = page.evaluate(_POINTS)
        time.sleep(2)
        assert page.evaluate(_POINTS) == stopped < 3000  # no more points after Stop
        # The visible x-range reaches the stopped step, and the last evaluation's points are in view.
        view = page.evaluate(_X_RANGE)
        assert view["shown"][0] <= view["first"] and view["shown"][1] >= view["last"], view  # every step in view
        assert view["evals"] and all(view["shown"][0] <= x <= view["shown"][1] for x in view["evals"])
        expect(train).to_be_enabled()
        title.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(shots / "panel-after.png"))
        page.screenshot(path=str(shots / "panel-after-full.png"), full_page=True)
        browser.close()
