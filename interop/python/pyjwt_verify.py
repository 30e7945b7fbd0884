"""Verifies one ginfresh access token with PyJWT, every check on.

Run by the Go tests in .. with Debian's /usr/bin/python3 (python3-jwt and,
for EdDSA, python3-cryptography). It loads PyJWT, prints "ready", reads the
token from one line of stdin and verifies it at once: zero leeway, the
algorithm pinned, issuer and audience checked, and exp, iat, nbf, sub, jti
and sid required. It prints the verified claims as one JSON object, or
"refused: <error class>: <reason>" on stderr and exits 1. Anything else
(a bug here, a missing module) exits with a traceback instead, which the
tests do not mistake for a refusal.
"""

import argparse
import json
import sys

import jwt


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alg", required=True, help="the one algorithm allowed")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--secret-hex", help="the HMAC secret, in hex")
    key.add_argument("--jwks-url", help="the issuer's JWK Set")
    p.add_argument("--issuer", required=True)
    p.add_argument("--audience", required=True)
    args = p.parse_args()

    # No cache: the set is fetched for this token, from the live server.
    jwks = jwt.PyJWKClient(args.jwks_url, cache_jwk_set=False) if args.jwks_url else None
    print("ready", flush=True)
    token = sys.stdin.readline().strip()
    try:
        if jwks is not None:
            key = jwks.get_signing_key_from_jwt(token).key
        else:
            key = bytes.fromhex(args.secret_hex)
        claims = jwt.decode(
            token,
            key,
            algorithms=[args.alg],
            issuer=args.issuer,
            audience=args.audience,
            leeway=0,
            options={
                "verify_signature": True,
                "verify_exp": True,
                "verify_nbf": True,
                "verify_iat": True,
                "verify_iss": True,
                "verify_aud": True,
                "require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid"],
            },
        )
    except jwt.PyJWTError as e:
        print(f"refused: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(claims, sys.stdout)
    print()


if __name__ == "__main__":
    main()
