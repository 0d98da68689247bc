"""The KPI card as typed objects: loaded from a TOML data file and validated on load.

``model`` holds the typed card (``KpiSet`` of scorecards, KPIs, fields, levels; its fingerprint);
``card`` reads a card file and validates it: ``load_kpi_set`` returns a ``KpiSet`` or raises
``KpiSetError`` listing every problem of the file at once.
"""

from cdd_scorer.kpi.card import KpiSetError, build_kpi_set, default_kpi_set_path, load_kpi_set
from cdd_scorer.kpi.model import Condition, Field, Kpi, KpiSet, Level, RatingBand, Scorecard

__all__ = [
    "Condition",
    "Field",
    "Kpi",
    "KpiSet",
    "KpiSetError",
    "Level",
    "RatingBand",
    "Scorecard",
    "build_kpi_set",
    "default_kpi_set_path",
    "load_kpi_set",
]
