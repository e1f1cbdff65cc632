"""Landing: source files and the CRM API into the `raw` schema of the DuckDB warehouse (docs/landing.md)."""
