"""Shared pytest set-up: real headless Chromium for dash.testing's `dash_duo`."""

from __future__ import annotations

import shutil

from selenium.webdriver.chrome.options import Options

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1200,900",
)


def pytest_setup_options() -> Options:
    """dash.testing asks this hook for the browser options: Debian's Chromium, headless, offline-safe."""
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return options
