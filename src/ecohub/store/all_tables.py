"""Import every module that defines tables on ``ecohub.store.schema.metadata``, so that ``metadata`` is complete
(for migrations' comparisons and tests). An area adds its own ``schema_<area>.py`` and one import line here."""

from ecohub.store import (  # noqa: F401  (identity, audit, catalogue: 0004)  # noqa: F401  (quality control, alerts)
    schema,  # noqa: F401  (core tables)
    schema_alerts,
    schema_catalog,
    schema_identity,
    schema_quality,
    schema_supervision,  # noqa: F401  (complaints: 0006)
)

metadata = schema.metadata
