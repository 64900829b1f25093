"""Page builders: one module per page, reading snapshots through `kpis.selectors`."""
