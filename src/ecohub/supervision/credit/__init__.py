"""Enterprise environmental credit (企业环境信用评价): the method (:mod:`.method`, pure: facts → points, vetoes,
level), the service that gathers the platform's facts, stores versioned ratings and keeps the blacklist with
credit repair (:mod:`.service`). Sources and what is UNCONFIRMED: ``docs/credit.md``."""
