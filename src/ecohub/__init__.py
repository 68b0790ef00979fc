"""ecohub — environmental monitoring data platform."""

__version__ = "0.1.0"
