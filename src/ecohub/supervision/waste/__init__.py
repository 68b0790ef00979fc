"""Hazardous-waste supervision (危险废物全过程监管): waste codes of the national list (:mod:`.codes`), licences and
the ledger (:mod:`.ledger`), electronic transfer manifests (:mod:`.manifest`, the state machine)."""
