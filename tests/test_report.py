"""The standalone HTML report: well-formed, self-contained, and rendered by a real (headless) browser offline."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from gait.analysis import analyze as analyze_movement
from gait.reporting import render_report
from gait.reporting.svg import binned_median, nice_ticks
from gait.runs import judge
from gait.simulate import SimConfig
from tests.conftest import simulated

VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "line", "path", "polyline"}
RUN = SimConfig(segments=(("stand", 3.0), ("run", 330.0), ("stand", 2.0)), rate_hz=52, drop_drift_right_deg=4.0, seed=7)


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = judge(analyze_movement(simulated(RUN).recording))
    out = tmp_path_factory.mktemp("report") / "report.html"
    out.write_text(render_report(result), encoding="utf-8")
    return out


def test_report_is_well_formed_and_self_contained(report: Path):
    html = report.read_text(encoding="utf-8")
    p = _Balance()
    p.feed(html)
    assert not p.errors and p.stack == [], (p.errors[:3], p.stack)
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<script" not in html
    assert html.count("<svg") == 4  # cadence, drop, contact time, braking
    assert "Pelvic drop grew through the run (right stance)" in html


def test_report_escapes_text():
    rec = simulated(dataclasses.replace(RUN, segments=(("stand", 3.0), ("run", 60.0), ("stand", 2.0)))).recording
    rec = dataclasses.replace(rec, meta=rec.meta.replace(title="<b>&evil</b>"))
    html = render_report(judge(analyze_movement(rec)))
    assert "<b>&evil</b>" not in html and "&lt;b&gt;&amp;evil&lt;/b&gt;" in html


def test_chart_helpers():
    assert list(nice_ticks(0.3, 9.7)) == [0.0, 2.5, 5.0, 7.5, 10.0]
    x = np.arange(100.0)
    xm, ym = binned_median(x, 2 * x, 10.0)
    assert len(xm) == 10 and np.allclose(ym, 2 * xm)


def test_report_renders_in_a_headless_browser_offline(report: Path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no chromium on this machine (CI installs it with apt-get)")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--dump-dom",
        report.as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    dom = out.stdout
    assert "Running gait report" in dom and dom.count("<svg") == 4
    assert "Pelvic drop grew through the run" in dom
