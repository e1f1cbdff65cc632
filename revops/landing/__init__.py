"""Landing: source files and the CRM API into the `raw` schema of the DuckDB warehouse (DESIGN 3)."""
