"""The manager passphrase: rules, salted scrypt hashing, and the back-off after wrong tries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_LENGTH = 10
# scrypt cost: 2**15 with r=8 takes about 0.1 s and 32 MiB, slow enough to make
# guessing expensive yet fine for a person typing a passphrase.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
SCHEME = "scrypt"
MAX_BACKOFF_SECONDS = 30.0


class PassphraseRuleError(ValueError):
    """A new passphrase does not meet the rules; the message says which."""


def check_new_passphrase(passphrase: str) -> None:
    """Raise PassphraseRuleError unless ``passphrase`` may be set."""
    if len(passphrase) < MIN_LENGTH:
        raise PassphraseRuleError(f"The manager passphrase needs at least {MIN_LENGTH} characters.")
    if passphrase.strip() != passphrase:
        raise PassphraseRuleError("The manager passphrase cannot start or end with spaces.")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=2 * 128 * r * n + 1024 * 1024,
        dklen=KEY_BYTES,
    )


def hash_passphrase(passphrase: str) -> str:
    """A self-describing salted scrypt hash: ``scrypt$N$r$p$salt$key`` (base64)."""
    check_new_passphrase(passphrase)
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encode = base64.b64encode
    return "$".join(
        [
            SCHEME,
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            encode(salt).decode(),
            encode(key).decode(),
        ]
    )


def verify_passphrase(passphrase: str, stored: str) -> bool:
    """True when ``passphrase`` matches ``stored``; compares in constant time."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(key)
        actual = _derive(passphrase, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


def backoff_seconds(consecutive_failures: int) -> float:
    """How long to wait before the next try: doubling from 1 s after the second miss."""
    if consecutive_failures < 2:
        return 0.0
    return min(MAX_BACKOFF_SECONDS, 2.0 ** (consecutive_failures - 2))
