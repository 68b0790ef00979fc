"""Data catalogue, sharing and exports."""
