"""Data quality: QC rules and flags beside the raw data, validity for aggregates, completeness (effective
transmission rate), suspicious-data (possible falsification) indicators with evidence.

See ``docs/quality-alerts.md``."""
