"""The audit writer lives in the store (:mod:`ecohub.store.audit`) so the command line and the domain packages
record their changes without importing ``api``; this name stays for the API's routers."""

from ecohub.store.audit import ACTIONS, cli_actor, query, record, record_now

__all__ = ["ACTIONS", "cli_actor", "query", "record", "record_now"]
