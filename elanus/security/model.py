"""The RBAC model as plain data: users (name and password hash), roles, the roles
each user holds, grants and privilege groups, plus the "authorization enabled"
flag of a data directory. ``RbacState`` is immutable; ``elanus.security.rbac``
computes a new state for each change and the engine persists and swaps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elanus.security.privileges import ALL, ANY, BUILTIN_GROUPS

__all__ = ["ADMIN_ROLE", "DEFAULT_ROLES", "PUBLIC_ROLE", "ROOT_USER", "Grant", "RbacState"]

ROOT_USER = "root"
ADMIN_ROLE = "admin"
PUBLIC_ROLE = "public"
DEFAULT_ROLES = (ADMIN_ROLE, PUBLIC_ROLE)
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Grant:
    """``privilege`` (a single privilege, a group or ``All``) on an object, for a role."""

    role: str
    object_type: str
    object_name: str
    db_name: str
    privilege: str
    grantor: str = ""

    def key(self) -> tuple[str, str, str, str, str]:
        return (self.role, self.object_type, self.object_name, self.db_name, self.privilege)

    def details(self) -> dict[str, str]:
        """What the audit log records of a grant or revoke, on every front end alike."""
        return {
            "role": self.role,
            "object_type": self.object_type,
            "object_name": self.object_name,
            "db_name": self.db_name,
            "privilege": self.privilege,
        }


@dataclass(frozen=True)
class RbacState:
    auth_enabled: bool = False
    # user name -> argon2 hash of the password
    users: Mapping[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = DEFAULT_ROLES
    user_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    grants: tuple[Grant, ...] = ()
    # user-defined privilege groups: name -> privileges
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    user_descriptions: Mapping[str, str] = field(default_factory=dict)
    role_descriptions: Mapping[str, str] = field(default_factory=dict)
    # bumped by every change, so caches of verified credentials can tell they are stale
    version: int = 0

    def roles_of(self, user: str) -> tuple[str, ...]:
        return self.user_roles.get(user, ())

    def users_in(self, role: str) -> list[str]:
        return sorted(u for u, roles in self.user_roles.items() if role in roles)

    def group_privileges(self, name: str) -> tuple[str, ...] | None:
        if name in BUILTIN_GROUPS:
            return BUILTIN_GROUPS[name]
        return self.groups.get(name)

    def allows(
        self, user: str, object_type: str, privilege: str, object_name: str, db_name: str
    ) -> bool:
        """Whether ``user`` holds ``privilege`` on the object: root and admin hold
        everything; otherwise a grant to one of the user's roles (or ``public``)
        names it, with ``*`` matching any database or object, or names ``All`` or a
        group containing it."""
        if user == ROOT_USER:
            return True
        roles = (*self.roles_of(user), PUBLIC_ROLE)
        if ADMIN_ROLE in roles:
            return True
        for grant in self.grants:
            if grant.role not in roles:
                continue
            if grant.db_name not in (ANY, db_name) and not (
                # A cluster-level privilege belongs to no database: a v1 grant of
                # it (or of All) on Global counts whichever database it names.
                db_name == ANY
                and grant.object_type == "Global"
                and grant.privilege in (privilege, ALL)
            ):
                continue
            if grant.privilege == privilege or grant.privilege in (ALL, ANY):
                if grant.privilege == privilege and grant.object_type != object_type:
                    continue
                if grant.object_name in (ANY, object_name) or grant.object_type == "Global":
                    return True
                continue
            members = self.group_privileges(grant.privilege)
            if members is None or privilege not in members:
                continue
            if (
                grant.object_type == "Collection"
                and object_type == "Collection"
                and grant.object_name not in (ANY, object_name)
            ):
                continue
            return True
        return False

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "auth_enabled": self.auth_enabled,
            "users": dict(self.users),
            "roles": list(self.roles),
            "user_roles": {u: list(r) for u, r in self.user_roles.items()},
            "grants": [vars(g) for g in self.grants],
            "groups": {g: list(p) for g, p in self.groups.items()},
            "user_descriptions": dict(self.user_descriptions),
            "role_descriptions": dict(self.role_descriptions),
            "version": self.version,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RbacState:
        return cls(
            auth_enabled=bool(raw.get("auth_enabled", False)),
            users=dict(raw.get("users") or {}),
            roles=tuple(raw.get("roles") or DEFAULT_ROLES),
            user_roles={u: tuple(r) for u, r in (raw.get("user_roles") or {}).items()},
            grants=tuple(Grant(**g) for g in raw.get("grants") or ()),
            groups={g: tuple(p) for g, p in (raw.get("groups") or {}).items()},
            user_descriptions=dict(raw.get("user_descriptions") or {}),
            role_descriptions=dict(raw.get("role_descriptions") or {}),
            version=int(raw.get("version", 0)),
        )
