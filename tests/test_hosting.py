"""Team hosting: `scripts/serve.sh` (gunicorn, 2 workers) with the temporal profile, a Dash
background callback, run on Celery + Redis when REDIS_URL is set and on the disk cache without it.

The stack is real processes on 127.0.0.1, driven over HTTP the way the browser drives it: the page's
end id, callback POSTs built from /_dash-dependencies, then the background protocol's polls.
Deselect with `-m "not hosting"`; skipped only when redis-server is not installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dash import CeleryManager, DiskcacheManager

from bench.common import REPO_ROOT
from bench.hosting import SERVE, Stack, has_redis, production_stack
from callbacks.background import background_manager, celery_app
from callbacks.pixel import run_profile
from components import ids
from imageservice.dash import ImageMapLayerAIO
from server_fixtures import sample_root  # noqa: F401  (session fixture)
from wsgi import data_lock

pytestmark = pytest.mark.hosting

PROFILE_SECONDS = 60
PARAMS_ID = json.dumps(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), sort_keys=True, separators=(",", ":"))  # as Dash writes it
SERVICE_PATH = "/arcgis/rest/services/SampleMultispectral/ImageServer"
SCENES = 14  # the sample service's scenes (imageservice.server.sampledata)


@pytest.fixture(scope="module", params=["celery", "diskcache"])
def stack(request: pytest.FixtureRequest, sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:  # noqa: F811
    """Redis + a Celery worker + gunicorn with 2 workers ("celery"), or gunicorn alone ("diskcache")."""
    if request.param == "celery" and not has_redis():
        pytest.skip("redis-server is not installed (scripts/setup.sh test installs Debian's redis-server)")
    logs = tmp_path_factory.mktemp(f"hosting-{request.param}")
    with production_stack(sample_root, logs, celery=request.param == "celery", workers=2) as running:
        yield running


# --- the browser's side of Dash, over HTTP ----------------------------------------------------------


class DashPage:
    """One page load: its end id (which signs background-job handles) and the callback graph."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        page = self.session.get(url + "/", timeout=30).text
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
        self.end_id = json.loads(config.group(1))["end_id"]
        self.dependencies = self.session.get(url + "/_dash-dependencies", timeout=30).json()

    def body(self, output_part: str, values: dict, changed: str) -> dict:
        """The renderer's POST body for the callback whose output names `output_part`; `values`
        maps "id.property" to the page's current values (missing ones are None)."""
        callback = next(c for c in self.dependencies if output_part in c["output"])

        def prop(item: dict) -> dict:
            key = f"{item['id']}.{item['property']}"
            return {"id": _id(item["id"]), "property": item["property"], "value": values.get(key)}

        outputs = [_output(part) for part in callback["output"].strip(".").split("...")]
        return {"output": callback["output"], "outputs": outputs if callback["output"].startswith("..") else outputs[0],
                "inputs": [prop(i) for i in callback["inputs"]], "state": [prop(s) for s in callback["state"]],
                "changedPropIds": [changed]}

    def post(self, body: dict, **handles: str) -> dict:
        response = self.session.post(self.url + "/_dash-update-component", params={"endId": self.end_id, **handles},
                                     json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def call(self, output_part: str, values: dict, changed: str) -> dict:
        """A plain callback: its outputs as {"id": {"property": value}}."""
        return self.post(self.body(output_part, values, changed))["response"]

    def call_background(self, output_part: str, values: dict, changed: str) -> tuple[dict, list[dict]]:
        """A background callback: start the job, then poll (inputs blanked, as the renderer does)
        until the answer; returns it and the progress updates seen on the way."""
        body = self.body(output_part, values, changed)
        job = self.post(body)
        handles = {"cacheKey": job["cacheKey"], "job": job["job"]}
        for item in body["inputs"] + body["state"]:
            item["value"] = None
        progress = []
        deadline = time.monotonic() + PROFILE_SECONDS
        while time.monotonic() < deadline:
            answer = self.post(body, **handles)
            progress += [answer["progress"]] if "progress" in answer else []
            if "response" in answer:
                return answer["response"], progress
            time.sleep(0.3)
        raise AssertionError(f"no answer within {PROFILE_SECONDS} s")


def _id(text: str) -> str | dict:
    return json.loads(text) if text.startswith("{") else text


def _output(part: str) -> dict:
    component, prop = part.rsplit(".", 1)
    return {"id": _id(component), "property": prop.split("@")[0]}  # "@hash" marks allow_duplicate


def open_profile(page: DashPage) -> tuple[dict, dict, dict]:
    """Open the sample service and pick its centre, as the page does: (params, service facts, point)."""
    opened = page.call(f"{ids.SERVICE_INFO}.data", {f"{ids.SERVICE_URL}.value": SERVICE_PATH}, f"{ids.SERVICE_URL}.value")
    params = opened[PARAMS_ID]["data"]
    facts = page.call(f"{ids.PIXEL_SERVICE}.data", {f"{PARAMS_ID}.data": params}, f"{PARAMS_ID}.data")
    service = facts[ids.PIXEL_SERVICE]["data"]
    south, west, north, east = service["extent_latlng"]
    point = {"lat": (south + north) / 2, "lng": (west + east) / 2, "url": params["url"]}
    return params, service, point


# --- tests ------------------------------------------------------------------------------------------


def test_temporal_profile_through_the_stack(stack: Stack) -> None:
    page = DashPage(stack.url)
    params, service, point = open_profile(page)
    assert params["url"] == f"{stack.url}{SERVICE_PATH}/"
    answer, progress = page.call_background(
        f"{ids.TEMPORAL_SERIES}.data",
        {f"{ids.PIXEL_POINT}.data": point, f"{PARAMS_ID}.data": params, f"{ids.PIXEL_SERVICE}.data": service},
        f"{ids.PIXEL_POINT}.data")
    expected_rows, expected_status = run_profile(lambda _: None, point, params, service)
    assert len(expected_rows) == SCENES
    assert answer[ids.TEMPORAL_SERIES]["data"] == expected_rows
    assert answer[ids.TEMPORAL_STATUS]["children"] == expected_status
    # Each poll reads (and clears) the latest progress before the result, so the last one seen is the end.
    assert progress[-1] == {f"{ids.TEMPORAL_PROGRESS}.children": f"{SCENES} of {SCENES} scenes"}
    if stack.worker is not None:  # the job ran in the Celery worker, not in a gunicorn process
        assert re.search(r"Task background_callback_\w+\[[-\w]+\] succeeded", stack.log("worker"))


def test_gunicorn_runs_two_workers(stack: Stack) -> None:
    assert len(stack.web_workers()) == 2


def test_access_log_leaves_out_query_strings(stack: Stack) -> None:
    response = requests.get(f"{stack.url}{SERVICE_PATH}", params={"f": "json", "token": "do-not-log-me"}, timeout=30)
    assert response.ok
    time.sleep(0.5)  # the access log line is written after the answer
    log = stack.log("web")
    assert f'"GET {SERVICE_PATH}" 200' in log
    assert "do-not-log-me" not in log


def test_worker_needs_redis_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run([str(SERVE), "worker"], cwd=REPO_ROOT, env={**env, "SERVE_SKIP_SETUP": "1"},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "needs REDIS_URL" in done.stderr


# --- the pieces, without processes ------------------------------------------------------------------


def test_manager_is_celery_with_redis_url_else_diskcache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(background_manager(tmp_path), DiskcacheManager)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/5")
    manager = background_manager(tmp_path)
    assert isinstance(manager, CeleryManager)
    assert manager.handle is celery_app("redis://127.0.0.1:1/5")
    assert manager.handle.conf.broker_url == "redis://127.0.0.1:1/5"
    assert manager.handle.conf.result_backend == "redis://127.0.0.1:1/5"


def test_importing_wsgi_builds_nothing() -> None:
    import wsgi

    assert wsgi.dashboard.cache_info().currsize == 0  # gunicorn and Celery build it by asking for an attribute


def test_data_lock_admits_one_process_at_a_time(tmp_path: Path) -> None:
    entered = threading.Event()

    def second() -> None:
        with data_lock(tmp_path):  # a second open file: flock treats it as another process
            entered.set()

    with data_lock(tmp_path):
        waiter = threading.Thread(target=second)
        waiter.start()
        assert not entered.wait(0.5)
    assert entered.wait(5)
    waiter.join()
