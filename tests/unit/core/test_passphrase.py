"""Manager passphrase rules and hashing."""

import pytest

from app.core.passphrase import (
    MAX_BACKOFF_SECONDS,
    PassphraseRuleError,
    backoff_seconds,
    hash_passphrase,
    verify_passphrase,
)


def test_short_passphrases_are_refused() -> None:
    with pytest.raises(PassphraseRuleError, match="at least 10"):
        hash_passphrase("123456789")


def test_hash_is_salted_and_never_contains_the_passphrase() -> None:
    first = hash_passphrase("correct horse battery")
    second = hash_passphrase("correct horse battery")
    assert first != second
    assert "correct horse" not in first
    assert first.startswith("scrypt$")


def test_verify_accepts_the_right_passphrase_only() -> None:
    stored = hash_passphrase("correct horse battery")
    assert verify_passphrase("correct horse battery", stored)
    assert not verify_passphrase("correct horse batterY", stored)
    assert not verify_passphrase("correct horse battery", "garbage")


def test_wrong_tries_slow_down_up_to_a_cap() -> None:
    assert [backoff_seconds(n) for n in range(5)] == [0.0, 0.0, 1.0, 2.0, 4.0]
    assert backoff_seconds(50) == MAX_BACKOFF_SECONDS
