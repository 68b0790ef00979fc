"""National (商用密码) algorithms for ecohub: SM3 hash (GB/T 32905-2016), SM4 block cipher (GB/T 32907-2016)
and SM2 signatures (GB/T 32918.1/.2-2016, encodings per GB/T 35276-2017).  Pure functions; the only I/O is
reading and writing key files (:mod:`ecohub.crypto.keyfile`).  Nothing of ours is imported here, so the store,
the protocol codecs and the exchange can all use it (``tests/test_architecture.py``).  See ``docs/crypto.md``."""
