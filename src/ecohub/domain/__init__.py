"""Entities and value types of ecohub: site kinds, intervals, parameters, regions, codes."""
