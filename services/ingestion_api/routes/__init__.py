"""HTTP routes of the Ingestion API, one module per feature."""
