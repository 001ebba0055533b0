"""Shared pytest set-up: real headless Chromium for dash.testing's `dash_duo`, and a WebGL one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

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
# WebGL 2 in software (SwiftShader through ANGLE), for clients that draw with it (the ArcGIS Maps SDK);
# every host name but 127.0.0.1 fails to resolve, so such a client cannot reach anything else.
WEBGL_FLAGS = (
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def chromium_options(flags: tuple[str, ...] = CHROMIUM_FLAGS) -> Options:
    """Debian's Chromium, headless, offline-safe, with the given command-line flags."""
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in flags:
        options.add_argument(flag)
    return options


def pytest_setup_options() -> Options:
    """dash.testing asks this hook for the browser options."""
    return chromium_options()


@pytest.fixture(scope="module")
def webgl_driver() -> Iterator[webdriver.Chrome]:
    """A Chromium with WebGL (dash_duo's runs with the GPU disabled), shared by a test module."""
    flags = tuple(flag for flag in CHROMIUM_FLAGS if flag != "--disable-gpu") + WEBGL_FLAGS
    driver = webdriver.Chrome(options=chromium_options(flags),
                              service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()
