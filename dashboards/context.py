"""What every page needs: the catalog of runs and the live session controller."""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.catalog import Catalog
from dashboards.live import LiveController


@dataclass
class AppContext:
    catalog: Catalog
    live: LiveController
