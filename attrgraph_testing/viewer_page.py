"""A report opened in headless Chromium for tests: requests, console messages and dialogs recorded."""

from __future__ import annotations

from pathlib import Path

from attrgraph_testing.paths import REPO

#: instrumentation the page does not ship (hoverTimes, metrics, nearestBench); injected after load
HOOKS_JS = REPO / "benchmarks" / "viewer_hooks.js"


class Page:
    """A report opened in a fresh context, with every request, console message and dialog recorded."""

    def __init__(self, browser, path: Path, hash_: str = ""):
        self.context = browser.new_context(viewport={"width": 1400, "height": 860}, accept_downloads=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.goto(path.as_uri() + hash_)
        self.page.evaluate("window.attrgraph.ready")
        self.page.evaluate(HOOKS_JS.read_text(encoding="utf-8"))

    def state(self) -> dict:
        return self.page.evaluate("window.attrgraph.state()")

    def pos(self, node_id: str) -> dict:
        return self.page.evaluate("id => window.attrgraph.screenPosition(id)", node_id)

    def hover(self, node_id: str) -> None:
        p = self.pos(node_id)
        self.page.mouse.move(p["x"], p["y"])

    def click(self, node_id: str, modifiers: list[str] | None = None) -> None:
        p = self.pos(node_id)
        if modifiers:
            for key in modifiers:
                self.page.keyboard.down(key)
        self.page.mouse.click(p["x"], p["y"])
        if modifiers:
            for key in modifiers:
                self.page.keyboard.up(key)

    def set_range(self, selector: str, value: float) -> None:
        self.page.eval_on_selector(
            selector, "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", value
        )

    def download(self, selector: str) -> Path:
        with self.page.expect_download() as info:
            self.page.click(selector)
        return Path(info.value.path())

    def close(self) -> None:
        self.context.close()
