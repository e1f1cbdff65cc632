"""The dashboard in a real browser, for its tests and its screenshots: a Streamlit server on 127.0.0.1 over a
snapshot directory, and Debian's Chromium driven by Playwright (`executable_path=/usr/bin/chromium`; `make test`
installs it; nothing here downloads a browser).

`python -m dashboard.browser --url http://127.0.0.1:8501 --out docs/dashboard` (`make screenshots`) saves every
page of a running dashboard as a PNG."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("REVOPS_TEST_ARTIFACTS", REPO / "test-artifacts")) / "dashboard"
# flags for a closed network: without them Chromium keeps trying to reach Google's services at start
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
PAGES = {"overview": "", "speed-to-lead": "speed-to-lead", "double-touch": "double-touch",
         "signal-to-revenue": "signal-to-revenue", "deliverability": "deliverability", "next-actions": "next-actions",
         "sync-health": "sync-health"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard(snapshot_dir: Path, log: Path):
    """`streamlit run dashboard/app.py` on a free port of 127.0.0.1, reading `snapshot_dir`; yields its URL."""
    port = _free_port()
    env = {**os.environ, "REVOPS_SNAPSHOT_DIR": str(snapshot_dir), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the dashboard did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def browser_page():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


# what a page must never show: an exception box, an error box, or a traceback's or DuckDB error's text
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|\w+(Exception|Error): |BinderException|CatalogException")


def assert_no_error(page: Page, where: str = "") -> None:
    """No Streamlit exception element, no st.error box, no error text anywhere on the page."""
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        boxes = page.locator(selector)
        assert boxes.count() == 0, f"{where}: {boxes.first.inner_text()[:2000]}"
    text = page.locator("body").inner_text()
    hit = ERROR_TEXT.search(text)
    assert hit is None, f"{where}: {text[max(0, hit.start() - 300):hit.end() + 700]}"


def wait_until_rendered(page: Page) -> None:
    """The app ran to its end: metrics (every page has some) are there and no script run is in progress."""
    page.locator('[data-testid="stMetric"]').first.wait_for()
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def open_page(page: Page, url: str, name: str, query: str = "") -> None:
    page.goto(f"{url}/{PAGES[name]}{query}")
    wait_until_rendered(page)


def open_filtered(page: Page, url: str, name: str, owner: str | None = None, segment: str | None = None) -> None:
    """Open a page with the sidebar's owner (by its name, as the selectbox shows it) and segment set through the URL
    (the filters are bound to it), check the sidebar took them (an unknown value would silently mean every owner),
    and that nothing on the page is an error."""
    params = {k: v for k, v in (("owner", owner), ("segment", segment)) if v is not None}
    open_page(page, url, name, f"?{urlencode(params)}" if params else "")
    for label, value in (("Owner", owner), ("Segment", segment)):
        box = page.get_by_role("combobox", name=label, exact=True)
        expect(box, f"{name}: the {label} filter").to_have_value(value or "(all)")
    assert_no_error(page, f"{name} owner={owner} segment={segment}")


def metric(page: Page, label: str):
    """The value of the metric whose label is exactly `label`."""
    label_re = re.compile(rf"^\s*{re.escape(label)}\s*$")
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').filter(has_text=label_re))
    return box.locator('[data-testid="stMetricValue"]')


def expect_metrics(page: Page, expected: dict[str, str]) -> None:
    for label, text in expected.items():
        expect(metric(page, label), f"metric {label!r}").to_have_text(text)


def screenshot(page: Page, name: str, out: Path = ARTIFACTS) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pick(page: Page, label: str, option: str) -> None:
    """Choose `option` in the Streamlit selectbox labelled `label`."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()


def main() -> None:
    ap = argparse.ArgumentParser(description="Screenshots of every page of a running dashboard.")
    ap.add_argument("--url", default="http://127.0.0.1:8501")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "dashboard")
    args = ap.parse_args()
    with browser_page() as page:
        for name in PAGES:
            open_page(page, args.url, name)
            print(screenshot(page, name, args.out))


if __name__ == "__main__":
    main()
