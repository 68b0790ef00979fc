"""Import every module that defines tables on ``ecohub.store.schema.metadata``, so that ``metadata`` is complete
(for migrations' comparisons and tests). An area adds its own ``schema_<area>.py`` and one import line here."""

from ecohub.store import schema  # noqa: F401  (core tables)
from ecohub.store import schema_catalog, schema_identity  # noqa: F401  (identity, audit, catalogue: 0004)
from ecohub.store import schema_alerts, schema_quality  # noqa: F401  (quality control, alerts)
from ecohub.store import schema_supervision  # noqa: F401  (complaints: 0006)

metadata = schema.metadata
