"""Dashboard speed in a real browser, and the screenshots in docs/screenshots/.

1. A 1-hour simulated run (208 Hz, accelerometer + gyroscope): time to analyse it once (then cached), to build
   its detail page on the server, to draw a 60-s raw window, and in headless Chromium from navigation until
   every chart of the page is drawn (first visit, then the median of repeat visits). Target: <= 2 s.
2. Screenshots of every page on the bundled sample recordings (``--screenshots``), the live page during an
   emulated session.

    python benchmarks/bench_dashboard.py [--screenshots] [--minutes 60]

Needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
DETAIL_PLOTS = 7  # 4 per-step charts, sides, drift, raw window (+ the cards)


def browser(width: int = 1280, height: int = 1000) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--enable-unsafe-swiftshader",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return webdriver.Chrome(service=webdriver.ChromeService(shutil.which("chromedriver")), options=opts)


def serve(app: object) -> tuple[str, object]:
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}", srv


def drawn(d: webdriver.Chrome, n: int) -> bool:
    """Every chart drawn (plotly marks a drawn graph div ``js-plotly-plot``), the raw window with its traces."""
    return (
        len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) >= n
        and bool(d.find_elements(By.CSS_SELECTOR, "#raw .js-plotly-plot .scatterlayer .trace"))
        and bool(d.find_elements(By.CSS_SELECTOR, "#card-cadence_spm"))
        and not d.find_elements(By.CSS_SELECTOR, "._dash-loading-callback")
    )


def render_times(minutes: float) -> None:
    from dashboards.app import create_app
    from dashboards.pages import run
    from gait.recording import save
    from gait.simulate import SimConfig, simulate

    with tempfile.TemporaryDirectory(prefix="gait-bench-dash-") as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        res = simulate(SimConfig(segments=(("run", 60.0 * minutes),), rate_hz=208.0, seed=3))
        save(res.recording, data / "long_run")
        print(f"simulated {minutes:g} min at 208 Hz in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        app = create_app(data, Path(tmp) / "gait.sqlite")
        print(f"first start (analysis, cached afterwards): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        create_app(data, Path(tmp) / "gait.sqlite")
        print(f"second start (from the cache):              {time.perf_counter() - t0:.2f} s")
        ctx = app.gait_context  # type: ignore[attr-defined]
        steps = len(ctx.catalog.steps("long_run"))
        builds = []
        for _ in range(5):
            t0 = time.perf_counter()
            run.layout(ctx, "long_run")
            builds.append(time.perf_counter() - t0)
        print(f"server: detail page of {steps} steps built in {statistics.median(builds) * 1000:.0f} ms (median of 5)")
        rec = ctx.catalog.recording("long_run")
        from dashboards import figures

        t0 = time.perf_counter()
        fig = figures.raw_window(rec.imu.t, rec.imu.acc, rec.imu.gyr, 1800.0, 60.0)
        n_points = sum(len(tr.x) for tr in fig.data)
        ms = (time.perf_counter() - t0) * 1000
        print(f"server: 60-s raw window ({n_points} points after the envelope) in {ms:.0f} ms")
        url, srv = serve(app)
        d = browser()
        try:
            times = []
            for _ in range(6):
                d.get("about:blank")
                t0 = time.perf_counter()
                d.get(f"{url}/run/long_run")
                WebDriverWait(d, 60, poll_frequency=0.02).until(lambda d: drawn(d, DETAIL_PLOTS))
                times.append(time.perf_counter() - t0)
            print(
                f"browser: detail page of a {minutes:g}-min run opened by its URL (a full page load, Dash and "
                f"plotly.js parsed again), navigation to all charts drawn: first {times[0]:.2f} s, then median "
                f"{statistics.median(times[1:]):.2f} s, max {max(times[1:]):.2f} s over {len(times) - 1} loads"
            )
            clicks = []
            for _ in range(5):
                d.get(f"{url}/")
                WebDriverWait(d, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#runs-table td"))
                d.get(f"{url}/trends")  # plotly.js loaded, as after any chart page
                WebDriverWait(d, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#weekly-load .bars"))
                d.find_element(By.ID, "nav-runs").click()
                WebDriverWait(d, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#runs-table td"))
                cell = d.find_element(By.CSS_SELECTOR, "#runs-table td[data-dash-column='name']")
                t0 = time.perf_counter()
                cell.click()
                WebDriverWait(d, 60, poll_frequency=0.02).until(lambda d: drawn(d, DETAIL_PLOTS))
                clicks.append(time.perf_counter() - t0)
            print(
                f"browser: the same page opened from the runs table (in-app navigation): median "
                f"{statistics.median(clicks):.2f} s, max {max(clicks):.2f} s over {len(clicks)} clicks (target <= 2 s)"
            )
        finally:
            d.quit()
            srv.shutdown()  # type: ignore[attr-defined]


def screenshots() -> None:
    from dashboards.app import create_app

    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gait-shots-") as tmp:
        os.environ["GAIT_HOME"] = tmp
        data = Path(tmp) / "recordings"
        shutil.copytree(ROOT / "recordings", data, ignore=shutil.ignore_patterns("*.py", "*.md", "*.txt"))
        app = create_app(data, Path(tmp) / "gait.sqlite")
        url, srv = serve(app)
        d = browser(1280, 900)
        try:
            pages = [
                ("runs", "/", "#runs-table td", 0),
                ("run", "/run/history_demo/2026-11-21_long", "#card-cadence_spm", DETAIL_PLOTS),
                ("trends", "/trends", "#weekly-load .bars", 6),
            ]
            for name, path, marker, n in pages:
                d.get(url + path)
                WebDriverWait(d, 60).until(lambda d, m=marker: d.find_elements(By.CSS_SELECTOR, m))
                WebDriverWait(d, 60).until(lambda d, n=n: len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) >= n)
                time.sleep(1.5)
                full(d, SHOTS / f"{name}.png")
            d.get(url + "/live")
            WebDriverWait(d, 30).until(lambda d: d.find_elements(By.ID, "live-start"))
            d.find_element(By.ID, "live-start").click()
            time.sleep(20)
            full(d, SHOTS / "live.png")
            d.find_element(By.ID, "live-stop").click()
            time.sleep(2)
        finally:
            d.quit()
            app.gait_context.live.stop()  # type: ignore[attr-defined]
            srv.shutdown()  # type: ignore[attr-defined]
    print(f"screenshots in {SHOTS}")


def full(d: webdriver.Chrome, path: Path) -> None:
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280, min(int(height) + 20, 4000))
    time.sleep(0.8)
    d.save_screenshot(str(path))
    d.set_window_size(1280, 900)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the simulated run (default 60)")
    ap.add_argument("--screenshots", action="store_true", help="also refresh docs/screenshots/*.png")
    args = ap.parse_args()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    render_times(args.minutes)
    if args.screenshots:
        screenshots()


if __name__ == "__main__":
    main()
