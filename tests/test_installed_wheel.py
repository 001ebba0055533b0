"""The package as an outsider gets it: a wheel, installed into a fresh virtual environment outside
the repository, used by the README's example app from a folder that has its own `components/` and
`callbacks/` packages, against the embedded server started from the installed console script.

Nothing here imports the repository's code: every process runs the fresh environment's Python from
a temporary folder, so a file missing from the wheel or a path into the checkout fails here.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
README_EXAMPLE = re.compile(r"## Use it in your own Dash app\n.*?```python\n(.*?)```", re.S)
SERVER_URL, APP_PORT = "http://127.0.0.1:8080", "port=8050"
INSTALL_TIMEOUT = 600  # s: pip resolves the dependencies from the package index (or its cache)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command: str | Path, **options) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, REPO, timeout=INSTALL_TIMEOUT)
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def outsider(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> dict[str, str]:
    """A fresh venv with the wheel and its [server] extra; the environment its processes run in."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{wheel}[server]", timeout=INSTALL_TIMEOUT)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "XDG_DATA_HOME": str(tmp_path_factory.mktemp("xdg-data")), "PYTHONUNBUFFERED": "1"}


@pytest.fixture()
def app_folder(tmp_path: Path) -> Path:
    """A user's project: the README example as app.py, beside packages named as every Dash tutorial
    names them (a wheel that installed top-level `components` or `callbacks` would clash here)."""
    for package in ("components", "callbacks"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(f'"""The user\'s own {package}."""\nOWNER = "user"\n')
    return tmp_path


def readme_example(server_url: str, app_port: int) -> str:
    """The README's example, verbatim but for the two ports (free ones, chosen by the test)."""
    code = README_EXAMPLE.search((REPO / "README.md").read_text())[1]
    assert code.count(SERVER_URL) == 1 and code.count(APP_PORT) == 1
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    return code.replace(SERVER_URL, server_url).replace(APP_PORT, f"port={app_port}")


def started(command: list[str], cwd: Path, env: dict[str, str], ready: str, log: Path) -> subprocess.Popen:
    """A process whose output is logged to `log`, once `ready` (a URL) answers."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{command[0]} exited:\n{log.read_text()[-3000:]}"
        try:
            if requests.get(ready, timeout=2).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"{ready} did not answer in time:\n{log.read_text()[-3000:]}")


@pytest.fixture()
def processes() -> Iterator[list[subprocess.Popen]]:
    running: list[subprocess.Popen] = []
    yield running
    for process in running:
        process.terminate()
        process.wait(timeout=10)


def test_the_wheel_installs_one_top_level_name_with_the_browser_code(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read(next(n for n in names if n.endswith(".dist-info/RECORD"))).decode()
    tops = {line.split(",")[0].split("/")[0] for line in record.splitlines() if line}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"imageservice"}
    assert {"imageservice/dash/imagemaplayer.js", "imageservice/dash/imagemaplayer.css"} <= set(names)
    assert not [n for n in names if n.startswith(("app.py", "wsgi.py", "components/", "callbacks/", "assets/"))]


def test_the_readme_example_draws_and_identifies_from_the_installed_wheel(
        outsider, app_folder, processes, dash_br, tmp_path):
    server_port, app_port = free_port(), free_port()
    data_dir = Path(outsider["XDG_DATA_HOME"]) / "imageservice"
    service = f"http://127.0.0.1:{server_port}/arcgis/rest/services/SampleMultispectral/ImageServer"
    # The console script with no folder: sample data generated into the per-user data folder.
    processes.append(started(["imageservice-server", "--port", str(server_port)], app_folder, outsider,
                             f"{service}?f=json", tmp_path / "server.log"))
    server_log = (tmp_path / "server.log").read_text()
    assert f"Generating the synthetic sample data in {data_dir}" in server_log and (data_dir / "SampleMultispectral").is_dir()
    assert service in server_log

    (app_folder / "app.py").write_text(readme_example(f"http://127.0.0.1:{server_port}", app_port))
    processes.append(started([sys_python(outsider), "app.py"], app_folder, outsider,
                             f"http://127.0.0.1:{app_port}/", tmp_path / "app.log"))
    where = run(sys_python(outsider), "-c", "import imageservice, components; print(imageservice.__file__, components.OWNER)",
                cwd=app_folder, env=outsider)
    assert "site-packages" in where and str(REPO) not in where and where.split()[1] == "user"

    dash_br.driver.get(f"http://127.0.0.1:{app_port}/")
    dash_br._wait_for(lambda _: shown_image(dash_br), timeout=30, msg="no exportImage picture on the map")
    assert shown_image(dash_br).startswith(f"{service}/exportImage?")
    ActionChains(dash_br.driver).move_to_element(dash_br.find_element(".leaflet-container")).click().perform()
    popup = dash_br.wait_for_element(".leaflet-popup-content", timeout=15)
    dash_br._wait_for(lambda _: popup.text.strip(), timeout=15, msg="the popup stayed empty")
    values = [float(v) for v in popup.text.split(",")]
    assert len(values) == 6 and all(v > 0 for v in values), popup.text  # six bands, real reflectances


def sys_python(env: dict[str, str]) -> str:
    """The fresh environment's python (first on its PATH)."""
    return str(Path(env["PATH"].split(os.pathsep)[0]) / "python")


def shown_image(dash_br) -> str | None:
    """The src of a loaded, visible exportImage picture on the map, if there is one."""
    return dash_br.driver.execute_script("""
        const img = [...document.querySelectorAll('.leaflet-image-layer')].find(i =>
            i.src.includes('/exportImage?') && i.style.opacity !== '0' && i.complete && i.naturalWidth > 1);
        return img ? img.src : null;""")
