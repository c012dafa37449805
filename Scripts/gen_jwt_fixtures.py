#!/usr/bin/env python3
"""Writes the JWT fixtures in Fixtures/jwt/ from PyJWT, an independent implementation, so
Auth's verifier is checked against tokens it did not make (Tests/AuthTests/PyJWTFixtureTests).

    .build-tools/py3-venv/bin/python Scripts/gen_jwt_fixtures.py          # rewrite the fixtures
    .build-tools/py3-venv/bin/python Scripts/gen_jwt_fixtures.py --check  # decode them with PyJWT

PyJWT comes from Scripts/install-test-tools.sh. Everything is fixed (keys, times), so a
rerun writes the same bytes (HMAC is deterministic) unless PyJWT changes its header layout;
`swift test` reads the files and needs no Python.

Files (one token each, no trailing newline, unless noted):
- keys.txt: the key file the tests load (two keys, comments, a blank line); k1 and k2 below.
- pyjwt_*.txt: tokens from jwt.encode; what each must give is in PyJWTFixtureTests.
- minted_basic.txt: the token Auth's TokenMinter must produce byte for byte for MINTED
  below, written here by hand-rolled json/hmac/base64 (our member order and header), and
  decoded by PyJWT in --check, so PyJWT also accepts what we mint.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import warnings

import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Fixtures", "jwt")

# Fixed 32-byte keys (RFC 7518 §3.2: at least the hash size), derived from fixed labels.
K1 = hashlib.sha256(b"ticker auth fixture key k1").digest()
K2 = hashlib.sha256(b"ticker auth fixture key k2").digest()
UNLISTED = hashlib.sha256(b"ticker auth fixture key that is not in keys.txt").digest()

IAT = 1_700_000_000          # 2023-11-14
FAR_FUTURE = 4_102_444_800   # 2100-01-01
FAR_PAST = 1_000_000_000     # 2001-09-09

TOKENS = {
    # name: (payload, key, algorithm, extra headers)
    "pyjwt_basic": ({"sub": "alice", "iat": IAT, "exp": FAR_FUTURE, "symbols": ["AAPL", "MSFT"]},
                    K1, "HS256", {"kid": "k1"}),
    # Every claim we read, the other key, and claims of other issuers that must be ignored.
    "pyjwt_all_claims": ({"sub": "feed-gateway-7", "iat": IAT, "nbf": IAT, "exp": FAR_FUTURE,
                          "symbols": ["BRK.B", "ES=F"], "max_conns": 3, "role": "publish",
                          "jti": "0f8e", "scope": {"desk": ["eq", "fx"]}},
                         K2, "HS256", {"kid": "k2"}),
    "pyjwt_wildcard_admin": ({"sub": "ops", "exp": FAR_FUTURE, "symbols": ["*"], "role": "admin"},
                             K1, "HS256", {"kid": "k1"}),
    # json.dumps escapes non-ASCII (ensure_ascii): exercises \\u escapes in the parser.
    "pyjwt_unicode_sub": ({"sub": "zo\u00eb \u6771\u4eac", "exp": FAR_FUTURE, "symbols": ["7203.T"]},
                          K1, "HS256", {"kid": "k1", "typ": "jwt"}),
    "pyjwt_expired": ({"sub": "alice", "iat": FAR_PAST - 60, "exp": FAR_PAST, "symbols": ["AAPL"]},
                      K1, "HS256", {"kid": "k1"}),
    "pyjwt_not_yet_valid": ({"sub": "alice", "nbf": FAR_FUTURE - 86_400, "exp": FAR_FUTURE, "symbols": ["AAPL"]},
                            K1, "HS256", {"kid": "k1"}),
    "pyjwt_hs512": ({"sub": "alice", "exp": FAR_FUTURE, "symbols": ["AAPL"]}, K1, "HS512", {"kid": "k1"}),
    "pyjwt_alg_none": ({"sub": "alice", "exp": FAR_FUTURE, "symbols": ["AAPL"]}, None, "none", {"kid": "k1"}),
    "pyjwt_unknown_kid": ({"sub": "alice", "exp": FAR_FUTURE, "symbols": ["AAPL"]}, UNLISTED, "HS256", {"kid": "k9"}),
    "pyjwt_no_kid": ({"sub": "alice", "exp": FAR_FUTURE, "symbols": ["AAPL"]}, K1, "HS256", {}),
}

# TokenClaims(subject: "bob", expiresAt: FAR_FUTURE, notBefore: IAT, issuedAt: IAT,
#             symbols: ["AAPL", "MSFT"], maxConnections: 2, role: .subscribe), kid k2.
MINTED = {"sub": "bob", "exp": FAR_FUTURE, "nbf": IAT, "iat": IAT, "symbols": ["AAPL", "MSFT"],
          "max_conns": 2, "role": "subscribe"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def minted_basic():
    compact = lambda value: json.dumps(value, separators=(",", ":")).encode()
    header = compact({"alg": "HS256", "typ": "JWT", "kid": "k2"})
    signing_input = b64url(header) + "." + b64url(compact(MINTED))
    return signing_input + "." + b64url(hmac.new(K2, signing_input.encode(), hashlib.sha256).digest())


def keys_txt():
    b64 = lambda key: base64.b64encode(key).decode("ascii")
    return ("# Fixture keys for Tests/AuthTests (written by Scripts/gen_jwt_fixtures.py).\n"
            "k1:" + b64(K1) + "\n"
            "\n"
            "# k2 without its padding: padding is optional.\n"
            "k2:" + b64(K2).rstrip("=") + "\n")


def write(name, text):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)


def generate():
    # PyJWT warns that a 32-byte key is short for HS512; the HS512 token exists to be refused.
    warnings.filterwarnings("ignore", message="The HMAC key is")
    os.makedirs(OUT, exist_ok=True)
    write("keys.txt", keys_txt())
    for name, (payload, key, algorithm, headers) in TOKENS.items():
        write(name + ".txt", jwt.encode(payload, key, algorithm=algorithm, headers=headers or None))
    write("minted_basic.txt", minted_basic())
    print(f"wrote {len(TOKENS) + 2} files to Fixtures/jwt with PyJWT {jwt.__version__}")


def check():
    """PyJWT accepts what it should: its own valid tokens and ours (minted_basic)."""
    read = lambda name: open(os.path.join(OUT, name)).read()
    valid = {"pyjwt_basic": K1, "pyjwt_all_claims": K2, "pyjwt_wildcard_admin": K1,
             "pyjwt_unicode_sub": K1, "minted_basic": K2}
    for name, key in valid.items():
        claims = jwt.decode(read(name + ".txt"), key, algorithms=["HS256"])
        print(f"{name}: PyJWT decodes sub={claims['sub']!r} symbols={claims['symbols']}")
    assert jwt.decode(read("minted_basic.txt"), K2, algorithms=["HS256"]) == MINTED
    assert read("minted_basic.txt") == minted_basic()
    print(f"check: ok (PyJWT {jwt.__version__})")


if __name__ == "__main__":
    check() if "--check" in sys.argv[1:] else generate()
