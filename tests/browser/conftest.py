"""Browser journeys: a real medkg server in a subprocess and headless Chromium via Playwright.

The store is the real catalogue, built from data/ once per session. Chromium is Debian's /usr/bin/chromium (MEDKG_CHROMIUM overrides): no browser is
downloaded. Without chromium or playwright the journeys skip, saying why, except under CI=true,
where they fail: CI installs chromium and must run them.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


log = logging.getLogger(__name__)

TESTS = Path(__file__).resolve().parent.parent
ARTIFACTS = TESTS / "artifacts"
CHROMIUM = os.environ.get("MEDKG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright (Python) is not installed")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"no chromium at {CHROMIUM}")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure is the same verdict
            _unavailable(f"chromium at {CHROMIUM} does not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def journey_store(request) -> tuple[Path, str]:
    """The real catalogue's store (tests/conftest.py builds it once per session; a data/ that
    does not build fails here, loudly, rather than sending the journeys to other data).

    MEDKG_BROWSER_STORE names an already built store to use instead (quicker reruns).
    """
    given = os.environ.get("MEDKG_BROWSER_STORE")
    if given:
        return Path(given), "given"
    return request.getfixturevalue("real_store"), "real"


@pytest.fixture(scope="session")
def server(journey_store):
    """``medkg.server.serve`` on a free loopback port; yields the base URL; stopped at the end."""
    store_dir, _ = journey_store
    code = ("import sys; from medkg.server import serve; "
            "serve(sys.argv[1], host='127.0.0.1', port=0, workers=1, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(store_dir)],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("medkg serving "):
            raise RuntimeError(f"the server did not start: {line!r}")
        base = line.split()[-1].rsplit("/sparql", 1)[0]
        _wait_ready(base)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.stdout.close()


def _wait_ready(base: str, timeout: float = 120.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base}/healthz did not answer within {timeout:g} s")
        time.sleep(0.2)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
           and not msg.text.startswith("Failed to load resource") else None)
    tab.js_errors = errors
    yield tab
    context.close()


@pytest.fixture
def phone(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shot():
    """``shot(tab, name)`` saves a full-page screenshot as tests/artifacts/<name>.png."""
    def take(tab, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=full_page)
        return path
    return take
