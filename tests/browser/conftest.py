"""Fixtures of the browser journeys: the whole stack, Debian's Chromium, a camera."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from support.sandbox_server import ROOT
from support.stack import Stack, start_stack, stop_stack
from tests.browser.journey import Camera, World, seed_world

CHROMIUM = os.environ.get("CCSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(os.environ.get("CCSYNC_SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
STEP_TIMEOUT_MS = 15_000

expect.set_options(timeout=STEP_TIMEOUT_MS)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The sandbox, the app, a worker and beat; stopped when the browser tests are done, so
    that no worker of it runs while the rest of the suite uses the same broker."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    stop_stack(running)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser.sh")
    with sync_playwright() as playwright:
        # playwright gives every launch a fresh, temporary user-data-dir.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A new browser profile (no cookies) per journey."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()
    stack.check_running()


@pytest.fixture
def camera(request: pytest.FixtureRequest, stack: Stack) -> Camera:
    folder = SCREENSHOT_DIR / request.node.name.removeprefix("test_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Camera(folder, app_url=stack.app_url)


@pytest.fixture
def world(stack: Stack) -> World:
    return seed_world(stack)
