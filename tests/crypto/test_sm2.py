"""SM2 signatures: published examples (GM/T 0003.5-2012 Appendix A on the recommended curve; GB/T 32918.2-2016
Annex A on the 256-bit test curve — values as quoted in docs/crypto.md), sign -> verify, tampering, key
forms, and interoperation with OpenSSL's SM2 (the ``openssl`` command) where it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ecohub.crypto import sm2


def h(s: str) -> str:
    return "".join(s.split())


# GM/T 0003.5-2012 Appendix A: recommended curve, ID 1234567812345678, M = "message digest"
REC_D = h("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8")
REC_P = "04" + h("09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"
                 "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13")
REC_E = h("F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640")
REC_K = int(h("59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21"), 16)
REC_R = int(h("F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3"), 16)
REC_S = int(h("B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA"), 16)

# GB/T 32918.2-2016 Annex A (also draft-shen-sm2-ecdsa-02 A.2): Fp-256 test curve, ID ALICE123@YAHOO.COM
TEST_CURVE = {
    "p": h("8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3"),
    "a": h("787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498"),
    "b": h("63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A"),
    "n": h("8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7"),
    "g": h("421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D"
           "0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2"),
}
TEST_D = h("128B2FA8 BD433C6C 068C8D80 3DFF7979 2A519A55 171B1B65 0C23661D 15897263")
TEST_P = "04" + h("0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A"
                  "7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857")
TEST_K = int(h("6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F"), 16)
TEST_R = int(h("40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1"), 16)
TEST_S = int(h("6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7"), 16)


def test_recommended_curve_example() -> None:
    assert sm2.public_key_of(REC_D) == REC_P.lower()
    assert sm2.digest(REC_P, b"message digest").hex() == REC_E.lower()
    assert sm2.sign_rs(REC_D, b"message digest", k=REC_K) == (REC_R, REC_S)
    assert sm2.verify(REC_P, b"message digest", encode_dss_signature(REC_R, REC_S))
    assert not sm2.verify(REC_P, b"message digesT", encode_dss_signature(REC_R, REC_S))


def test_test_curve_example() -> None:
    uid = b"ALICE123@YAHOO.COM"
    assert sm2.public_key_of(TEST_D, TEST_CURVE) == TEST_P.lower()
    assert sm2.sign_rs(TEST_D, b"message digest", user_id=uid, curve=TEST_CURVE, k=TEST_K) == (TEST_R, TEST_S)
    assert sm2.verify_rs(TEST_P, b"message digest", TEST_R, TEST_S, user_id=uid, curve=TEST_CURVE)
    assert not sm2.verify_rs(TEST_P, b"message digest", TEST_R, TEST_S, curve=TEST_CURVE)  # other user id


def test_sign_verify_and_tamper() -> None:
    priv, pub = sm2.generate_keypair()
    assert len(priv) == 64 and len(pub) == 130 and pub.startswith("04")
    data = "排放数据 2026-12-04".encode()
    sig = sm2.sign(priv, data)
    assert sm2.verify(pub, data, sig)
    assert sm2.verify(pub[2:], data, sig)  # 128 digits without 04 too
    assert sm2.sign(priv, data) != sig  # random k
    assert not sm2.verify(pub, data + b" ", sig)
    bad = bytearray(sig)
    bad[-1] ^= 1
    assert not sm2.verify(pub, data, bytes(bad))
    assert not sm2.verify(sm2.generate_keypair()[1], data, sig)  # another key
    assert not sm2.verify(pub, data, b"not der")
    r, s = decode_dss_signature(sig)
    n = int(sm2.CURVE["n"], 16)
    assert not sm2.verify(pub, data, encode_dss_signature(r, s + n))  # s out of [1, n-1]
    assert not sm2.verify(pub, data, encode_dss_signature(0, s))
    assert not sm2.verify("04" + "11" * 64, data, sig)  # not a curve point: False, no exception


def test_public_keys_starting_with_0_or_4_survive() -> None:
    # gmssl's constructor does lstrip("04"); ours must not lose such digits (about 1 key in 8 starts so)
    for _ in range(200):
        priv, pub = sm2.generate_keypair()
        if pub[2] in "04":
            assert sm2.verify(pub, b"m", sm2.sign(priv, b"m"))
            return
    pytest.fail("no key with x starting with 0 or 4 in 200 tries")  # pragma: no cover


def test_key_forms_and_errors() -> None:
    priv, pub = sm2.generate_keypair()
    assert sm2.public_from_pem(sm2.public_to_pem(pub)) == pub
    assert sm2.private_from_pem(sm2.private_to_pem(priv)) == priv
    assert len(sm2.key_fingerprint(pub)) == 16
    with pytest.raises(ValueError, match="not a point of the curve"):
        sm2.normalise_public("04" + "11" * 64)
    with pytest.raises(ValueError, match="130 digits"):
        sm2.normalise_public("abc")
    with pytest.raises(ValueError, match="out of range"):
        sm2.public_key_of("0")
    with pytest.raises(ValueError, match="BEGIN PUBLIC KEY"):
        sm2.public_from_pem("nothing")


OPENSSL = shutil.which("openssl")


def _openssl_has_sm2() -> bool:
    if OPENSSL is None:
        return False
    out = subprocess.run([OPENSSL, "ecparam", "-list_curves"], capture_output=True, text=True, check=False)
    return "SM2" in out.stdout


@pytest.mark.skipif(not _openssl_has_sm2(), reason="no openssl command with SM2")
def test_interoperates_with_openssl(tmp_path: Path) -> None:
    priv, pub = sm2.generate_keypair()
    (tmp_path / "pub.pem").write_text(sm2.public_to_pem(pub))
    (tmp_path / "priv.pem").write_text(sm2.private_to_pem(priv))
    (tmp_path / "msg").write_bytes(b"ecohub export")
    (tmp_path / "sig").write_bytes(sm2.sign(priv, b"ecohub export"))
    base = [OPENSSL, "pkeyutl", "-rawin", "-digest", "sm3", "-in", str(tmp_path / "msg"),
            "-pkeyopt", "distid:1234567812345678"]
    ok = subprocess.run([*base, "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                         "-sigfile", str(tmp_path / "sig")], capture_output=True, text=True, check=False)
    assert "Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    subprocess.run([*base, "-sign", "-inkey", str(tmp_path / "priv.pem"), "-out", str(tmp_path / "sig2")],
                   check=True, capture_output=True)
    assert sm2.verify(pub, b"ecohub export", (tmp_path / "sig2").read_bytes())
