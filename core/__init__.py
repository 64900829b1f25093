"""Pure shared modules, below every app: calendar periods, the metric catalog, attribution.

No Django models and no database: `alignment`, `leads` and `kpis` all read these.
"""
