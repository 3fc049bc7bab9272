"""Drive one page's sparsity slider in headless Chromium, every non-local request blocked; prints JSON.

Run as a child process by test_book.py, so a browser that never answers (Chromium's page creation can hang in
some containers, and Playwright gives it no timeout) is killed at a deadline instead of stalling the suite.
"""
from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def drive(chromium: str, server: str, page: str) -> dict:
    """The readout and the shown output before and after one ArrowRight on the slider, plus what was blocked and
    the local files the page asked for that the server does not have."""
    blocked, errors, missing = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS, timeout=30_000)
        pg = browser.new_page()

        def route(r):
            if r.request.url.startswith(server) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        pg.route("**/*", route)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
        pg.goto(f"{server}/book/generated/{page}.html", wait_until="load")
        pg.locator(".widget-slider").first.wait_for(state="visible", timeout=30_000)
        readout = pg.locator(".widget-readout").first
        shown = lambda: pg.locator(".widget-output").first.inner_html()  # noqa: E731 (the Stack renders one child)
        pg.locator(".widget-output table, .widget-output img").first.wait_for(state="visible", timeout=30_000)
        before_label, before = readout.inner_text(), shown()
        pg.locator(".noUi-handle").first.focus()
        pg.keyboard.press("ArrowRight")
        pg.wait_for_timeout(500)
        after_label, after = readout.inner_text(), shown()
        browser.close()
    return {"blocked": blocked, "errors": errors, "missing": missing, "before_label": before_label, "after_label": after_label,
            "before": before, "after": after}


if __name__ == "__main__":
    print(json.dumps(drive(*sys.argv[1:4])))
