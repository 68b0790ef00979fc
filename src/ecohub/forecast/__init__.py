"""Air-quality forecasts (D+1 … D+3) verified against persistence and climatology; heavy-pollution warnings.

Pure parts (no database): :mod:`.history` (daily history, official daily files), :mod:`.met` (meteorology
files → daily features), :mod:`.calendar`, :mod:`.features`, :mod:`.model` (LightGBM), :mod:`.baselines`,
:mod:`.scores` (verification), :mod:`.backtest` (rolling origin), :mod:`.warning_levels` (national grading).
See docs/forecast.md for the method, the figures and the commands that reproduce them.

Depends on :mod:`ecohub.standards`, :mod:`ecohub.store` and :mod:`ecohub.analytics` only.
"""
