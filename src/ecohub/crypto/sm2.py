"""SM2 digital signatures, GB/T 32918.2-2016 (signature scheme) on the recommended curve of GB/T 32918.5-2017
(sm2p256v1, OID 1.2.156.10197.1.301), with SM3 (GB/T 32905-2016) and the user id of GB/T 35276-2017 §10
(``1234567812345678`` when none is agreed).

The elliptic-curve arithmetic and the signing equation are ``gmssl``'s (pure Python; ``cryptography`` has no
SM2).  What is ours, because ``gmssl`` gets it wrong or leaves it out:

* the nonce k comes from :mod:`secrets` (gmssl's default uses :mod:`random`, not a CSPRNG);
* Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) (GB/T 32918.2 §5.5) for any user id, and
  e = SM3(Z_A || M) (§6.1 A1-A2);
* the checks of verification: r, s in [1, n-1] (§7.1 B1-B2) and the public key on the curve (GB/T 32918.1
  §6.2.1), which gmssl omits; the public key is handed over without gmssl's ``lstrip("04")`` (which eats a
  leading 0 or 4 of x);
* encodings: signature = DER ``SEQUENCE { r INTEGER, s INTEGER }`` (GB/T 35276-2017 §7.3 SM2Signature); keys as
  hex (private: 64 digits; public: ``04 || x || y``, 130 digits, GB/T 32918.1 §4.2.9 uncompressed form) or PEM
  (SubjectPublicKeyInfo with id-ecPublicKey + the SM2 curve OID; SEC 1 ``EC PRIVATE KEY``) — the forms
  OpenSSL reads (``tests/crypto/test_sm2.py`` verifies our signatures with the ``openssl`` command when there).

Checked against the GM/T 0003.5-2012 Appendix A example on the recommended curve and the GB/T 32918.2-2016
Annex A example on its 256-bit test curve (see docs/crypto.md for where those vectors were read).
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .sm3 import sm3_digest

__all__ = ["generate_keypair", "public_key_of", "sign", "verify", "DEFAULT_USER_ID", "CURVE", "public_to_pem",
           "public_from_pem", "private_to_pem", "private_from_pem", "normalise_public", "key_fingerprint"]

DEFAULT_USER_ID = b"1234567812345678"

#: GB/T 32918.5-2017 recommended curve parameters (hex), in gmssl's table form.
CURVE: Mapping[str, str] = {
    "p": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
    "a": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "b": "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "n": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
    "g": "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
         "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
}
_HEX = re.compile(r"[0-9a-fA-F]+")
# DER prefixes (fixed lengths for 256-bit keys): SubjectPublicKeyInfo {id-ecPublicKey, sm2p256v1} and SEC 1
# ECPrivateKey {1, d, [0] sm2p256v1, [1] public}.
_SPKI = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")
_SEC1_HEAD, _SEC1_MID = bytes.fromhex("30770201010420"), bytes.fromhex("a00a06082a811ccf5501822da144034200")


def _engine(curve: Mapping[str, str], private_hex: str = "", public_xy: str = ""):  # type: ignore[no-untyped-def]
    from gmssl.sm2 import CryptSM2  # type: ignore[import-untyped]

    eng = CryptSM2(private_key=private_hex, public_key="", ecc_table=dict(curve))
    eng.public_key = public_xy  # set directly: the constructor's lstrip("04") corrupts some keys
    return eng


def _on_curve(x: int, y: int, curve: Mapping[str, str]) -> bool:
    p, a, b = (int(curve[k], 16) for k in "pab")
    return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x + a * x + b)) % p == 0


def normalise_public(public_hex: str, curve: Mapping[str, str] = CURVE) -> str:
    """``04 || x || y`` in lower-case hex (130 digits) from 130 or 128 hex digits; ValueError if it is not a
    point of the curve (GB/T 32918.1 §6.2.1)."""
    h = "".join((public_hex or "").split()).lower()
    if len(h) == 130 and h.startswith("04"):
        h = h[2:]
    if len(h) != 128 or not _HEX.fullmatch(h):
        raise ValueError("an SM2 public key is 04 || x || y in hex (130 digits, or 128 without 04)")
    if not _on_curve(int(h[:64], 16), int(h[64:], 16), curve):
        raise ValueError("the SM2 public key is not a point of the curve")
    return "04" + h


def _private_int(private_hex: str, curve: Mapping[str, str]) -> int:
    h = "".join((private_hex or "").split())
    if not h or len(h) > 64 or not _HEX.fullmatch(h):
        raise ValueError("an SM2 private key is up to 64 hex digits")
    d = int(h, 16)
    if not 1 <= d <= int(curve["n"], 16) - 2:  # GB/T 32918.1 §6.1: d in [1, n-2]
        raise ValueError("the SM2 private key is out of range [1, n-2]")
    return d


def public_key_of(private_hex: str, curve: Mapping[str, str] = CURVE) -> str:
    """The public key ``04 || x || y`` (hex) of a private key: P = [d]G."""
    d = _private_int(private_hex, curve)
    return "04" + _engine(curve)._kg(d, curve["g"].lower()).lower()


def generate_keypair(curve: Mapping[str, str] = CURVE) -> tuple[str, str]:
    """A new key pair ``(private_hex, public_hex)``: d uniform in [1, n-2] from :mod:`secrets` (GB/T 32918.1
    §6.1), public key ``04 || x || y`` (130 hex digits)."""
    d = secrets.randbelow(int(curve["n"], 16) - 2) + 1
    priv = f"{d:064x}"
    return priv, public_key_of(priv, curve)


def _z(public_hex: str, user_id: bytes, curve: Mapping[str, str]) -> bytes:
    """Z_A (GB/T 32918.2 §5.5); ENTL_A is the bit length of ID_A as two bytes."""
    entl = len(user_id) * 8
    if entl > 0xFFFF:
        raise ValueError("the SM2 user id is longer than 8191 bytes")
    xy = normalise_public(public_hex, curve)[2:]
    return sm3_digest(entl.to_bytes(2, "big") + user_id
                      + bytes.fromhex(curve["a"] + curve["b"] + curve["g"] + xy))


def digest(public_hex: str, data: bytes, user_id: bytes = DEFAULT_USER_ID, curve: Mapping[str, str] = CURVE) -> bytes:
    """e = SM3(Z_A || M) (GB/T 32918.2 §6.1 A1-A2), what is signed."""
    return sm3_digest(_z(public_hex, user_id, curve) + bytes(data))


def sign_rs(private_hex: str, data: bytes, *, user_id: bytes = DEFAULT_USER_ID, curve: Mapping[str, str] = CURVE,
            k: int | None = None) -> tuple[int, int]:
    """(r, s) of GB/T 32918.2 §6.1.  ``k`` only for the standard's worked examples; otherwise random."""
    _private_int(private_hex, curve)
    pub = public_key_of(private_hex, curve)
    e = digest(pub, data, user_id, curve)
    eng = _engine(curve, f"{int(private_hex, 16):064x}")
    n = int(curve["n"], 16)
    for _ in range(64):
        kk = k if k is not None else secrets.randbelow(n - 1) + 1
        rs = eng.sign(e, f"{kk:064x}")  # None when r = 0, r + k = n or s = 0 (A5, A6): take another k
        if rs is not None:
            return int(rs[:64], 16), int(rs[64:], 16)
        if k is not None:
            raise ValueError("this k gives r = 0, r + k = n or s = 0")
    raise RuntimeError("no SM2 signature after 64 nonces")  # pragma: no cover - probability ~ 2^-256 each


def sign(private_hex: str, data: bytes, *, user_id: bytes = DEFAULT_USER_ID, curve: Mapping[str, str] = CURVE) -> bytes:
    """The SM2 signature of ``data`` (DER SEQUENCE {r, s}, GB/T 35276-2017 §7.3)."""
    r, s = sign_rs(private_hex, data, user_id=user_id, curve=curve)
    return encode_dss_signature(r, s)


def verify_rs(public_hex: str, data: bytes, r: int, s: int, *, user_id: bytes = DEFAULT_USER_ID,
              curve: Mapping[str, str] = CURVE) -> bool:
    n = int(curve["n"], 16)
    if not (1 <= r <= n - 1 and 1 <= s <= n - 1) or (r + s) % n == 0:  # §7.1 B1, B2, B5
        return False
    try:
        pub = normalise_public(public_hex, curve)
    except ValueError:
        return False
    e = digest(pub, data, user_id, curve)
    return bool(_engine(curve, "", pub[2:]).verify(f"{r:064x}{s:064x}", e))


def verify(public_hex: str, data: bytes, signature: bytes, *, user_id: bytes = DEFAULT_USER_ID,
           curve: Mapping[str, str] = CURVE) -> bool:
    """True when ``signature`` (DER, as :func:`sign` makes) is the SM2 signature of ``data`` by the key;
    False for a wrong, changed or malformed signature or key (never raises on bad input)."""
    try:
        r, s = decode_dss_signature(bytes(signature))
    except (ValueError, TypeError):
        return False
    return verify_rs(public_hex, data, r, s, user_id=user_id, curve=curve)


def key_fingerprint(public_hex: str) -> str:
    """A short id of a public key: the first 16 hex digits of SM3(04 || x || y)."""
    return sm3_digest(bytes.fromhex(normalise_public(public_hex))).hex()[:16]


def _pem(label: str, der: bytes) -> str:
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    return f"-----BEGIN {label}-----\n" + "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64)) \
        + f"-----END {label}-----\n"


def _unpem(text: str, label: str) -> bytes:
    m = re.search(rf"-----BEGIN {label}-----(.*?)-----END {label}-----", text or "", re.S)
    if m is None:
        raise ValueError(f"no '-----BEGIN {label}-----' block")
    return base64.b64decode("".join(m.group(1).split()))


def public_to_pem(public_hex: str) -> str:
    return _pem("PUBLIC KEY", _SPKI + bytes.fromhex(normalise_public(public_hex)))


def public_from_pem(text: str) -> str:
    der = _unpem(text, "PUBLIC KEY")
    if len(der) != len(_SPKI) + 65 or not der.startswith(_SPKI):
        raise ValueError("not an SM2 (sm2p256v1) SubjectPublicKeyInfo")
    return normalise_public(der[len(_SPKI):].hex())


def private_to_pem(private_hex: str) -> str:
    d = _private_int(private_hex, CURVE)
    pub = bytes.fromhex(public_key_of(private_hex))
    return _pem("EC PRIVATE KEY", _SEC1_HEAD + d.to_bytes(32, "big") + _SEC1_MID + pub)


def private_from_pem(text: str) -> str:
    der = _unpem(text, "EC PRIVATE KEY")
    if len(der) != 121 or not der.startswith(_SEC1_HEAD) or der[39:39 + len(_SEC1_MID)] != _SEC1_MID:
        raise ValueError("not an SM2 (sm2p256v1) SEC 1 EC PRIVATE KEY")
    priv = der[7:39].hex()
    if public_key_of(priv) != der[-65:].hex():
        raise ValueError("the PEM's public key does not belong to its private key")
    return priv
