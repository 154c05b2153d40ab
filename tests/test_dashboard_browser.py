"""The dashboard in a real headless Chromium: every page loads without console errors, the numbers shown
are the analysis's, an upload works, and a live session against an emulated sensor updates the tiles.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them the tests are
skipped with that reason, except under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("dash", reason="the dashboard needs dash (pip install -e .)")
webdriver = pytest.importorskip("selenium.webdriver", reason="browser tests need selenium (pip install -e .[dev])")

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import gait  # noqa: E402
from dashboards.app import create_app  # noqa: E402
from gait.simulate import SimConfig, simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
SAMPLES = ("fatigue_10min_104hz", "easy_run_208hz", "history_demo", "hilly_run_52hz")

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI: chromium and chromedriver are required for the browser tests (see .ci/run)")
    pytest.skip(
        "chromium / chromedriver not installed (apt-get install chromium chromium-driver)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    data = tmp_path_factory.mktemp("data")
    for name in SAMPLES:
        shutil.copytree(ROOT / "recordings" / name, data / name)
    home = tmp_path_factory.mktemp("home")
    app = create_app(data, home / "gait.sqlite")
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}", app
    app.gait_context.live.stop()  # type: ignore[attr-defined]
    srv.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    opts = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1800",
        "--enable-unsafe-swiftshader",
        "--autoplay-policy=no-user-gesture-required",
    ):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=opts)
    yield driver
    driver.quit()


def wait(driver: object, cond, timeout: float = 30.0, what: str = "") -> object:  # type: ignore[no-untyped-def]
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: cond(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}") from None


def errors(driver: object) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]


def plots(driver: object) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot"))  # type: ignore[attr-defined]  # drawn graphs


def text(driver: object, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "marker", "min_plots"),
    [
        ("/", "#runs-table .dash-spreadsheet", 0),
        ("/run/fatigue_10min_104hz", "#card-cadence_spm", 7),
        ("/run/hilly_run_52hz", "#route .js-plotly-plot", 9),  # + speed and grade, the route: no map tiles fetched
        ("/trends", "#weekly-load .bars", 6),
        ("/live", "#live-start", 1),
        ("/no/such/page", "main h2", 0),
    ],
)
def test_page_loads_without_console_errors(server, browser, path: str, marker: str, min_plots: int) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    browser.get(url + path)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, marker), what=marker)
    wait(browser, lambda d: plots(d) >= min_plots, what=f"{min_plots} charts")
    time.sleep(0.5)  # let late callbacks finish
    assert errors(browser) == []
    # local-first: every script, style and font came from the dashboard itself (no CDN, no telemetry)
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(u.startswith(url) for u in fetched), [u for u in fetched if not u.startswith(url)]


def test_runs_table_shows_the_analysis(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, app = server
    browser.get(url + "/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#runs-table td"), what="table cells")
    a = gait.analyze(gait.load(ROOT / "recordings" / "fatigue_10min_104hz")).to_dict()  # the documented JSON
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#runs-table tr") if "fatigue_10min_104hz" in r.text)
    cells = [c.text for c in row.find_elements(By.CSS_SELECTOR, "td")]
    assert f"{a['cadence_spm']:.1f}" in cells
    assert f"{a['pelvic_drop_left_deg']:.1f}" in cells and f"{a['pelvic_drop_right_deg']:.1f}" in cells
    assert f"{a['braking_dv_mps']:.2f}" in cells
    n_rows = len(app.gait_context.catalog.runs)  # type: ignore[attr-defined]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#runs-table tr")) == n_rows + 2  # header + filter row
    # filtering in the browser: cadence above 169.5 keeps only those runs
    cell = browser.find_element(By.CSS_SELECTOR, "#runs-table th.dash-filter[data-dash-column='cadence_spm'] input")
    cell.send_keys("> 169.5\n")
    expected = sum(
        1 for e in app.gait_context.catalog.runs.values() if (e.analysis or {}).get("cadence_spm", 0) > 169.5
    )  # type: ignore[attr-defined]
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#runs-table tr")) == expected + 2, what="filter")


def test_run_detail_shows_numbers_findings_and_raw_signal(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    browser.get(url + "/run/fatigue_10min_104hz")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#card-cadence_spm"), what="cards")
    a = gait.analyze(gait.load(ROOT / "recordings" / "fatigue_10min_104hz")).to_dict()
    assert text(browser, "#card-cadence_spm") == f"{a['cadence_spm']:.1f} spm"
    drop = a["pelvic_drop_left_deg"], a["pelvic_drop_right_deg"]
    assert text(browser, "#card-pelvic_drop_deg") == f"{drop[0]:.1f} / {drop[1]:.1f} deg"
    assert text(browser, "#card-contact_time_ms") == f"{a['contact_time_ms']:.0f} ms"
    # the simulated runner's right-stance drop grows by 3 deg: the finding must be there, with grade and sources
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "Pelvic drop grew through the run (right stance)" in page
    assert "evidence grade" in page and "Not a diagnosis" in page
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#raw .scatterlayer .trace, #raw canvas"), what="raw")
    assert errors(browser) == []


def test_a_hilly_run_shows_speed_grade_the_terrain_split_and_the_route(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    browser.get(url + "/run/hilly_run_52hz")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#route .js-plotly-plot"), what="the route")
    a = gait.analyze(gait.load(ROOT / "recordings" / "hilly_run_52hz")).to_dict()
    assert text(browser, "#card-speed_mps") == f"{a['speed_mps']:.2f} m/s"
    assert text(browser, "#card-step_speed_loss_mps") == f"{a['step_speed_loss_mps']:.2f} m/s per step"
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "By terrain" in page and "A rolling run" in page and "Speed from GPS (location)" in page
    flat = a["by_terrain"]["flat"]
    assert f"{flat['contact_time_ms']:.0f} ms" in page and f"{flat['speed_mps']:.2f} m/s" in page
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#speed-grade .scatterlayer .trace"), what="speed")
    assert errors(browser) == []


def test_upload_a_csv(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    res = simulate(SimConfig(segments=(("run", 60.0),), rate_hz=100.0, cadence_spm=184.0, seed=9))
    imu = res.recording.imu
    csv = tmp_path / "treadmill_test.csv"
    rows = [f"{t:.3f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}" for t, a in zip(imu.t, imu.acc, strict=True)]
    csv.write_text("time_s,acc_x,acc_y,acc_z\n" + "\n".join(rows) + "\n")
    browser.get(url + "/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#upload input[type=file]"), what="upload input")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(csv))
    wait(browser, lambda d: "Imported" in text(d, "#upload-status"), timeout=60, what="import")
    row = wait(
        browser,
        lambda d: next(
            (r for r in d.find_elements(By.CSS_SELECTOR, "#runs-table tr") if "treadmill_test" in r.text), None
        ),
        what="the new row",
    )
    numbers = [float(c.text) for c in row.find_elements(By.CSS_SELECTOR, "td") if re.fullmatch(r"\d{3}\.\d", c.text)]
    assert numbers and abs(numbers[0] - 184.0) <= 1.0  # simulator truth
    browser.find_element(By.CSS_SELECTOR, "#upload-status a").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#card-cadence_spm"), what="the new run's page")
    assert errors(browser) == []


def test_live_session_updates_tiles(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    browser.get(url + "/live")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#live-start"), what="live page")
    browser.find_element(By.ID, "live-start").click()  # the default source: an emulated Movesense
    wait(browser, lambda d: re.fullmatch(r"\d+", text(d, "#live-tile-cadence_spm")), timeout=40, what="cadence tile")
    seen_clock, seen_cadence = set(), []
    for _ in range(10):  # 5 s, read twice a second so a reading never falls on the same side of every update
        seen_clock.add(text(browser, "#live-message"))
        seen_cadence.append(float(text(browser, "#live-tile-cadence_spm")))
        time.sleep(0.5)
    assert len(seen_clock) >= 4, f"the live view did not update every second: {seen_clock}"
    assert all(abs(c - 170.0) <= 3.0 for c in seen_cadence), seen_cadence  # the emulator runs at 170 spm
    assert re.fullmatch(r"\d+\.\d", text(browser, "#live-tile-pelvic_drop_left_deg"))
    assert "lost" in text(browser, "#live-streams")
    # metronome at +5 % of the current cadence, ticking in the browser
    browser.find_element(By.ID, "metronome-plus5").click()
    bpm_input = browser.find_element(By.ID, "metronome-bpm")
    wait(browser, lambda d: abs(float(bpm_input.get_attribute("value")) - 178.5) <= 4, what="+5 % target")
    browser.find_element(By.CSS_SELECTOR, "#metronome-on input").click()
    wait(browser, lambda d: d.execute_script("return window.gaitMetronome.on"), what="metronome on")
    time.sleep(1.5)
    assert browser.execute_script("return window.gaitMetronome.beats") >= 3
    browser.find_element(By.ID, "live-stop").click()
    wait(browser, lambda d: "Stopped" in text(d, "#live-action"), timeout=20, what="stop")
    wait(browser, lambda d: "saved" in text(d, "#live-message"), timeout=10, what="saved message")
    assert errors(browser) == []


def test_clicking_a_run_opens_its_page_without_reloading(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    browser.get(url + "/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#runs-table td"), what="table cells")
    browser.execute_script("window.__still_the_same_page = true")
    cell = next(
        c
        for c in browser.find_elements(By.CSS_SELECTOR, "#runs-table td[data-dash-column='name']")
        if c.text == "easy_run_208hz"
    )
    cell.click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#card-cadence_spm"), what="the run's page")
    assert browser.current_url.endswith("/run/easy_run_208hz")
    assert browser.execute_script("return window.__still_the_same_page") is True  # no reload: plotly stays loaded
    assert errors(browser) == []
