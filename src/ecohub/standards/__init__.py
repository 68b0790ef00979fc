"""National and international environmental standards as pure, vectorised functions (numpy; no I/O).

Modules: :mod:`.editions` (edition in force at a time), :mod:`.aqi_cn` (HJ 633-2012/2026), :mod:`.aqi_epa`
(US EPA AQI), :mod:`.eaqi` (European AQI), :mod:`.gb3095` (limits, validity, moving means), :mod:`.hj663`
(evaluation, percentiles, comprehensive index, ranking), :mod:`.gb3838` (surface water classes),
:mod:`.gb3096` (noise), :mod:`.emission` (reference-oxygen conversion, permit exceedance), :mod:`.frames`
(polars DataFrame API).
See docs/standards.md for the clause-by-clause description and the decisions taken.
"""

from .aqi_cn import AqiResult, aqi_daily, aqi_hourly, hj633_aqi, iaqi
from .aqi_epa import epa_aqi
from .eaqi import european_aqi
from .editions import gb3095_edition, hj633_edition, hj663_edition
from .gb3096 import noise_assessment
from .gb3838 import water_quality_class
from .hj663 import comprehensive_index, evaluate, percentile, rank

__all__ = [
    "AqiResult",
    "aqi_daily",
    "aqi_hourly",
    "comprehensive_index",
    "european_aqi",
    "epa_aqi",
    "evaluate",
    "gb3095_edition",
    "hj633_aqi",
    "hj633_edition",
    "hj663_edition",
    "iaqi",
    "noise_assessment",
    "percentile",
    "rank",
    "water_quality_class",
]
