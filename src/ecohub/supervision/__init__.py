"""Supervision work on top of the monitoring data: public complaints (12369-style) today; permits, enforcement
cases, credit ratings, red lines and risk sources belong here as they are built."""
