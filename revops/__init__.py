"""revops-warehouse: command line and shared settings."""
