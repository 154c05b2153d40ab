"""Reports a runner can hand on: a standalone HTML file with inline SVG charts (no scripts, no network)."""

from gait.reporting.html import render_report

__all__ = ["render_report"]
