"""Import every module that defines tables on ``ecohub.store.schema.metadata``, so that ``metadata`` is complete
(for migrations' comparisons and tests). An area adds its own ``schema_<area>.py`` and one import line here."""

from ecohub.store import (  # noqa: F401  (imported for their tables)
    schema,  # core tables
    schema_alerts,  # quality control, alerts (0005)
    schema_analytics,  # maintained daily AQI of stations and cities (0009)
    schema_catalog,  # catalogue (0004)
    schema_crypto,  # raw-observation batch chain (0016)
    schema_emergency,  # risk sources, receptors, incidents, red lines (0011)
    schema_enforcement,  # inspections, draws, enforcement cases (0014)
    schema_exchange,  # HJ 212 forwarding, partner exchange (0017)
    schema_forecast,  # forecasts, verification (0010)
    schema_identity,  # identity, audit (0004)
    schema_permits,  # permit register (0013)
    schema_quality,  # quality control (0005)
    schema_reports,  # report issues, soil samples (0012)
    schema_supervision,  # complaints (0006)
    schema_waste,  # hazardous waste codes, licences, manifests, ledger (0013)
)

metadata = schema.metadata
