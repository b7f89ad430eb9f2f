"""A headless Chromium from the distribution (no browser download), driven by Selenium through
the distribution's chromedriver; the service under test runs in a uvicorn thread."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import LiveServer
from workflows.clock import ManualClock

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def api(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    application = create_app(dataclasses.replace(settings, supervision_interval=0), clock=clock,
                             run_projections=True)
    yield application
    application.state.engine.app.close()


@pytest.fixture
def live_url(api: FastAPI) -> Iterator[str]:
    server = LiveServer(api).start()
    yield server.url
    server.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("install the distribution's chromium and chromium-driver (see .ci/run)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--lang=zh-CN",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
