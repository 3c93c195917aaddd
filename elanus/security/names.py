"""Name and password rules for users, roles and privilege groups, worded as Milvus
words them (``internal/proxy/util.go``), each a ``ParameterError`` (code 1100)."""

from __future__ import annotations

import string

from elanus.errors import ParameterError

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MAX_USERNAME_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "check_password",
    "check_privilege_group_name",
    "check_role_name",
    "check_username",
]

MAX_USERNAME_LENGTH = 32
MIN_PASSWORD_LENGTH = 6
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 255
_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)
# Milvus's proxy.roleNameValidationAllowedChars default.
_ROLE_EXTRA = "$"


def check_username(name: object) -> str:
    if not isinstance(name, str):
        raise ParameterError(f"invalid user name {name!r}: the name must be a string")
    name = name.strip()
    if not name:
        raise ParameterError("username must be not empty")
    if len(name) > MAX_USERNAME_LENGTH:
        raise ParameterError(
            f"invalid username {name} with length {len(name)}, the length of username "
            f"must be less than {MAX_USERNAME_LENGTH}"
        )
    if name[0] not in _LETTERS:
        raise ParameterError(
            f"invalid user name {name}, the first character must be a letter, but got {name[0]}"
        )
    for c in name[1:]:
        if c not in "_-." and c not in _LETTERS and c not in _DIGITS:
            raise ParameterError(
                f"invalid user name {name}, username must contain only numbers, letters, "
                f"underscores, dots, and hyphens, but got {c}"
            )
    return name


def check_password(password: object) -> str:
    """The length rule only; the password itself never appears in the message."""
    if not isinstance(password, str):
        raise ParameterError("invalid password: the password must be a string")
    size = len(password.encode())
    if size < MIN_PASSWORD_LENGTH or size > MAX_PASSWORD_LENGTH:
        raise ParameterError(
            f"invalid password length: invalid parameter"
            f"[expected=[{MIN_PASSWORD_LENGTH}, {MAX_PASSWORD_LENGTH}]][actual={size}]"
        )
    return password


def _check_name(name: object, kind: str, extra: str) -> str:
    if not isinstance(name, str):
        raise ParameterError(f"invalid {kind} {name!r}: the name must be a string")
    name = name.strip()
    if not name:
        raise ParameterError(f"{kind} should be not empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ParameterError(
            f"the length of {kind} must be not greater than limit: invalid parameter"
            f"[expected=[0, {MAX_NAME_LENGTH}]][actual={len(name)}]"
        )
    if name[0] != "_" and name[0] not in _LETTERS:
        raise ParameterError(
            f"the first character of {kind} must be an underscore or letter: invalid parameter"
            f"[expected=_][actual={name[0]}]"
        )
    for i, c in enumerate(name[1:], start=1):
        if c != "_" and c not in _LETTERS and c not in _DIGITS and c not in extra:
            raise ParameterError(
                f"{kind} can only contain numbers, letters, underscores, and allowed "
                f"characters ({extra}), found {c} at {i}"
            )
    return name


def check_role_name(name: object) -> str:
    return _check_name(name, "role name", _ROLE_EXTRA)


def check_privilege_group_name(name: object) -> str:
    if not isinstance(name, str):
        raise ParameterError(f"invalid privilege group name {name!r}: the name must be a string")
    if not name:
        raise ParameterError("privilege group name should not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ParameterError(
            f"the length of a privilege group name {name} must be less than "
            f"{MAX_NAME_LENGTH} characters"
        )
    if name[0] != "_" and name[0] not in _LETTERS:
        raise ParameterError(
            f"the first character of a privilege group name {name} must be an underscore or letter"
        )
    for c in name[1:]:
        if c != "_" and c not in _LETTERS and c not in _DIGITS:
            raise ParameterError(
                f"privilege group name {name} can only contain numbers, letters and underscores"
            )
    return name
