"""Enforcement cases (环境行政处罚案件): the workflow (:mod:`.machine`, declared once), the legal-basis table
(:mod:`.legal`), penalties incl. daily continuous penalties (:mod:`.penalties`), the service functions the CLI,
API and pages call (:mod:`.service`) and generated documents (:mod:`.documents`)."""
