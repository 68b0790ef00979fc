"""Permit-centred supervision (排污许可"一证式"管理): the permit register with versions (:mod:`.register`), the
permit-number rule (:mod:`.numbers`), emissions accounting against the permitted tonnage (:mod:`.emissions`),
self-monitoring plans and execution reports (:mod:`.reports`)."""
