"""Checking a caller's credential once, at the door.

A token is ``user:password``. Verifying an argon2 hash costs milliseconds, more
than a search, so a verified token is remembered under a keyed digest of it
(never the token) together with the RBAC state's version: any change of users,
passwords or roles bumps the version and so drops every remembered login. Failed
attempts are counted per user; past ``MAX_FAILURES`` within ``WINDOW_S`` seconds
that user is refused (even with the right password) until the window passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from elanus.errors import AuthenticationError
from elanus.security.model import RbacState
from elanus.security.passwords import token_key, verify_password

__all__ = ["AUTH_FAILURE", "MAX_FAILURES", "WINDOW_S", "Authenticator", "split_token"]

AUTH_FAILURE = "auth check failure, please check username, password or API key are correct"
MAX_FAILURES = 10
WINDOW_S = 60.0
_CACHE_LIMIT = 4096


def split_token(token: str) -> tuple[str, str]:
    """``user:password`` split at the first colon; a token without one is refused."""
    user, colon, password = token.partition(":")
    if not colon or not user:
        raise AuthenticationError(
            f"{AUTH_FAILURE} (the token must be user:password): not authenticated"
        )
    return user, password


class Authenticator:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._verified: dict[bytes, tuple[str, int]] = {}
        self._failures: dict[str, list[float]] = {}

    def authenticate(self, state: RbacState, token: str | None) -> str:
        """The user ``token`` names, or ``AuthenticationError`` (code 1400)."""
        if not token:
            raise AuthenticationError(f"{AUTH_FAILURE} (no credential given): not authenticated")
        key = token_key(token)
        with self._lock:
            hit = self._verified.get(key)
        if hit is not None and hit[1] == state.version:
            return hit[0]
        user, password = split_token(token)
        if self._locked_out(user):
            raise AuthenticationError(
                f"{AUTH_FAILURE} (too many failed attempts for this user, retry later): "
                "not authenticated"
            )
        stored = state.users.get(user)
        if stored is None or not verify_password(stored, password):
            self._fail(user)
            raise AuthenticationError(f"{AUTH_FAILURE}: not authenticated")
        with self._lock:
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[key] = (user, state.version)
            self._failures.pop(user, None)
        return user

    def _recent(self, user: str) -> list[float]:
        horizon = self._clock() - WINDOW_S
        recent = [t for t in self._failures.get(user, ()) if t > horizon]
        if recent:
            self._failures[user] = recent
        else:
            self._failures.pop(user, None)
        return recent

    def _locked_out(self, user: str) -> bool:
        with self._lock:
            return len(self._recent(user)) >= MAX_FAILURES

    def _fail(self, user: str) -> None:
        with self._lock:
            if len(self._failures) >= _CACHE_LIMIT:
                # Names claimed by failed logins are unbounded; keep the table small.
                self._failures.clear()
            self._failures[user] = [*self._recent(user), self._clock()]
