"""Passwords are kept only as salted argon2id hashes (argon2-cffi). Checking one is
deliberately slow, so callers cache a verified token under a fast keyed digest
(``token_key``) rather than the token itself."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "token_key", "verify_password"]

# Lighter than argon2-cffi's defaults (64 MiB): the cost is paid once per new
# token thanks to the cache, and many clients may log in at once.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A per-process key, so the cache's digests are useless outside this process.
_CACHE_KEY = secrets.token_bytes(32)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_key(token: str) -> bytes:
    """A fast keyed digest of a credential, for cache lookups."""
    return hashlib.blake2b(token.encode(), key=_CACHE_KEY, digest_size=20).digest()
