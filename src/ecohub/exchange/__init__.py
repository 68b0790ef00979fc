"""Data exchange upward and sideways (``ecohub.exchange``): HJ 212 forwarding to upstream platforms
(:mod:`.forward`, :mod:`.forwarder`, :mod:`.wire`) and push exchange with partners (:mod:`.partners`,
:mod:`.push`, :mod:`.incoming`). Design, formats and headers: ``docs/exchange.md``."""
