"""Changes to the RBAC model, each checked as Milvus checks it and worded as Milvus
words its refusals. Every function takes a state and returns a new one (or raises,
leaving nothing changed); the engine persists the result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from elanus.errors import AuthenticationError, ParameterError, PermissionDenied, SecurityError
from elanus.schema.validate import validate_name
from elanus.security.model import (
    ADMIN_ROLE,
    DEFAULT_ROLES,
    PUBLIC_ROLE,
    ROOT_USER,
    Grant,
    RbacState,
)
from elanus.security.names import (
    check_password,
    check_privilege_group_name,
    check_role_name,
    check_username,
)
from elanus.security.passwords import hash_password, verify_password
from elanus.security.privileges import (
    ALL,
    ANY,
    BUILTIN_GROUPS,
    OBJECT_PRIVILEGES,
    OBJECT_TYPES,
    object_type_of,
    privilege_level,
)

__all__ = [
    "MAX_ROLES",
    "MAX_USERS",
    "RELATED_PRIVILEGES",
    "add_user_to_role",
    "backup",
    "alter_group",
    "bootstrap",
    "create_group",
    "create_role",
    "create_user",
    "delete_user",
    "drop_group",
    "drop_role",
    "grant",
    "remove_user_from_role",
    "restore",
    "revoke",
    "update_password",
    "v1_grant",
    "v2_grant",
]

MAX_USERS = 100
MAX_ROLES = 10
_ROLE_NOT_FOUND = "not found the role, maybe the role isn't existed or internal system error"
_USER_NOT_FOUND = "not found the user, maybe the user isn't existed or internal system error"


def _bump(state: RbacState, **changes: Any) -> RbacState:
    return replace(state, version=state.version + 1, **changes)


def bootstrap(state: RbacState, root_password: str, *, enable: bool) -> RbacState:
    """Make sure ``root`` exists (with ``root_password`` when it is created) and holds
    ``admin``; record the "authorization enabled" flag once it is set."""
    changes: dict[str, Any] = {}
    if ROOT_USER not in state.users:
        check_password(root_password)
        changes["users"] = {**state.users, ROOT_USER: hash_password(root_password)}
        changes["user_roles"] = {**state.user_roles, ROOT_USER: (ADMIN_ROLE,)}
        # What Milvus grants ``public`` when it first starts: every user may
        # describe collections, list aliases and read index details.
        changes["grants"] = (
            *state.grants,
            Grant(PUBLIC_ROLE, "Global", ANY, ANY, "DescribeCollection", ROOT_USER),
            Grant(PUBLIC_ROLE, "Global", ANY, ANY, "ListAliases", ROOT_USER),
            Grant(PUBLIC_ROLE, "Collection", ANY, ANY, "IndexDetail", ROOT_USER),
        )
    if enable and not state.auth_enabled:
        changes["auth_enabled"] = True
    return _bump(state, **changes) if changes else state


def create_user(state: RbacState, name: str, password: str, description: str = "") -> RbacState:
    name = check_username(name)
    check_password(password)
    if name in state.users:
        raise ParameterError(f"user already exists: {name}")
    if len(state.users) >= MAX_USERS:
        raise SecurityError(
            f"unable to add user because the number of users has reached the limit {MAX_USERS}"
        )
    return _bump(
        state,
        users={**state.users, name: hash_password(password)},
        user_descriptions={**state.user_descriptions, name: description},
    )


def update_password(
    state: RbacState,
    name: str,
    old_password: str,
    new_password: str,
    *,
    check_old: bool,
    description: str | None = None,
) -> RbacState:
    """``check_old`` is false only for a caller allowed to reset others' passwords
    without knowing them; Milvus checks the old one for every caller."""
    name = check_username(name)
    check_password(new_password)
    stored = state.users.get(name)
    if stored is None or (check_old and not verify_password(stored, old_password)):
        raise AuthenticationError(f"old password not correct for {name}: not authenticated")
    described = dict(state.user_descriptions)
    if description is not None:
        described[name] = description
    return _bump(
        state,
        users={**state.users, name: hash_password(new_password)},
        user_descriptions=described,
    )


def delete_user(state: RbacState, name: str) -> RbacState:
    name = check_username(name)
    if name == ROOT_USER:
        raise PermissionDenied("root user cannot be deleted: privilege not permitted")
    if name not in state.users:
        return state
    users = {u: h for u, h in state.users.items() if u != name}
    bound = {u: r for u, r in state.user_roles.items() if u != name}
    described = {u: d for u, d in state.user_descriptions.items() if u != name}
    return _bump(state, users=users, user_roles=bound, user_descriptions=described)


def create_role(state: RbacState, name: str, description: str = "") -> RbacState:
    name = check_role_name(name)
    if name in state.roles:
        raise SecurityError(f'role [name:"{name}"] already exists')
    if len(state.roles) - len(DEFAULT_ROLES) >= MAX_ROLES:
        raise SecurityError(
            f"unable to create role because the number of roles has reached the limit {MAX_ROLES}"
        )
    return _bump(
        state,
        roles=(*state.roles, name),
        role_descriptions={**state.role_descriptions, name: description},
    )


def drop_role(state: RbacState, name: str, *, force: bool = False) -> RbacState:
    name = check_role_name(name)
    if name in DEFAULT_ROLES:
        raise PermissionDenied(
            f"the role[{name}] is a default role, which can't be dropped: privilege not permitted"
        )
    if name not in state.roles:
        raise SecurityError(_ROLE_NOT_FOUND)
    held = [g for g in state.grants if g.role == name]
    if held and not force:
        raise SecurityError(
            f"fail to drop the role that it has privileges. Use REVOKE API to revoke "
            f"privileges (role {name} holds {len(held)} grants)"
        )
    bound = {u: tuple(r for r in rs if r != name) for u, rs in state.user_roles.items()}
    return _bump(
        state,
        roles=tuple(r for r in state.roles if r != name),
        role_descriptions={r: d for r, d in state.role_descriptions.items() if r != name},
        user_roles=bound,
        grants=tuple(g for g in state.grants if g.role != name),
    )


def add_user_to_role(state: RbacState, user: str, role: str) -> RbacState:
    user = check_username(user)
    role = check_role_name(role)
    if user not in state.users:
        raise SecurityError(_USER_NOT_FOUND, code=65536)
    if role not in state.roles:
        raise SecurityError(_ROLE_NOT_FOUND, code=65536)
    held = state.roles_of(user)
    if role in held:
        return state
    return _bump(state, user_roles={**state.user_roles, user: (*held, role)})


def remove_user_from_role(state: RbacState, user: str, role: str) -> RbacState:
    user = check_username(user)
    role = check_role_name(role)
    if role not in state.roles:
        raise SecurityError(_ROLE_NOT_FOUND)
    held = state.roles_of(user)
    if role not in held:
        return state
    return _bump(state, user_roles={**state.user_roles, user: tuple(r for r in held if r != role)})


def _known_privilege(state: RbacState, privilege: str) -> bool:
    return (
        privilege in (ALL, ANY)
        or any(privilege in p for p in OBJECT_PRIVILEGES.values())
        or privilege in BUILTIN_GROUPS
        or privilege in state.groups
    )


def v1_grant(
    state: RbacState,
    role: str,
    object_type: str,
    object_name: str,
    privilege: str,
    db_name: str,
    grantor: str = "",
) -> Grant:
    """The grant a v1 request (role, object type, object name, privilege) means."""
    role = check_role_name(role)
    if object_type not in OBJECT_TYPES:
        raise SecurityError("the object entity in the request is nil or invalid")
    if not object_name:
        raise ParameterError("the object name in the grant entity is empty")
    if not privilege:
        raise ParameterError("the privilege name in the grant entity is empty")
    if not _known_privilege(state, privilege):
        raise SecurityError(f"not found the privilege name[{privilege}]")
    if (
        privilege not in OBJECT_PRIVILEGES[object_type]
        and privilege not in state.groups
        and privilege not in (ALL, ANY)
    ):
        raise SecurityError(f"not found the privilege name[{privilege}] in object[{object_type}]")
    if object_type == "Global" and privilege not in BUILTIN_GROUPS:
        object_name = ANY
    return Grant(role, object_type, object_name, db_name or "default", privilege, grantor)


def v2_grant(
    state: RbacState,
    role: str,
    privilege: str,
    collection_name: str,
    db_name: str,
    grantor: str = "",
) -> Grant:
    """The grant a v2 request (role, privilege or group, database, collection) means."""
    role = check_role_name(role)
    db_name, collection_name = db_name or ANY, collection_name or ANY
    if db_name != ANY:
        validate_name("database", db_name)
    if collection_name != ANY:
        validate_name("collection", collection_name)
    if not privilege or not _known_privilege(state, privilege):
        raise SecurityError(f"not found the privilege name[{privilege}]")
    level = privilege_level(privilege)
    if privilege in BUILTIN_GROUPS:
        level = (
            "Cluster"
            if privilege.startswith("Cluster")
            else "Database"
            if privilege.startswith("Database")
            else "Collection"
        )
    if level == "Cluster" and (db_name != ANY or collection_name != ANY):
        raise ParameterError(
            f"dbName and collectionName should be * for the cluster level privilege: {privilege}"
        )
    if level == "Database" and collection_name != ANY:
        raise ParameterError(
            f"collectionName should be * for the database level privilege: {privilege}"
        )
    return Grant(role, object_type_of(privilege), collection_name, db_name, privilege, grantor)


# Granting one of these grants (and revoking revokes) its companions too, as in
# Milvus: whoever may load may follow the load, whoever may flush its state.
RELATED_PRIVILEGES = {
    "Load": ("GetLoadState", "GetLoadingProgress"),
    "Flush": ("GetFlushState",),
}


def _with_related(one: Grant) -> list[Grant]:
    return [one] + [replace(one, privilege=p) for p in RELATED_PRIVILEGES.get(one.privilege, ())]


def grant(state: RbacState, new: Grant) -> RbacState:
    if new.role not in state.roles:
        raise SecurityError(_ROLE_NOT_FOUND)
    have = {g.key() for g in state.grants}
    added = [g for g in _with_related(new) if g.key() not in have]
    if not added:
        return state
    return _bump(state, grants=(*state.grants, *added))


def revoke(state: RbacState, old: Grant) -> RbacState:
    if old.role not in state.roles:
        raise SecurityError(_ROLE_NOT_FOUND)
    gone = {g.key() for g in _with_related(old)}
    kept = tuple(g for g in state.grants if g.key() not in gone)
    if len(kept) == len(state.grants):
        return state
    return _bump(state, grants=kept)


def create_group(state: RbacState, name: str) -> RbacState:
    name = check_privilege_group_name(name)
    if name in BUILTIN_GROUPS or name in state.groups:
        raise SecurityError(f"privilege group [{name}] already exists")
    if _known_privilege(state, name):
        raise SecurityError(f"privilege group name [{name}] is defined by built in privileges")
    return _bump(state, groups={**state.groups, name: ()})


def drop_group(state: RbacState, name: str) -> RbacState:
    name = check_privilege_group_name(name)
    if name in BUILTIN_GROUPS:
        raise SecurityError(f"the privilege group [{name}] is defined by built in privilege groups")
    if name not in state.groups:
        return state
    using = sorted({g.role for g in state.grants if g.privilege == name})
    if using:
        raise SecurityError(
            f"privilege group [{name}] is used by role [{using[0]}], "
            "Use REVOKE API to revoke it first"
        )
    return _bump(state, groups={g: p for g, p in state.groups.items() if g != name})


def alter_group(state: RbacState, name: str, privileges: Iterable[str], *, add: bool) -> RbacState:
    name = check_privilege_group_name(name)
    if name in BUILTIN_GROUPS:
        raise SecurityError(f"the privilege group [{name}] is defined by built in privilege groups")
    if name not in state.groups:
        raise ParameterError(f"there is no privilege group name [{name}] defined in system")
    wanted = list(privileges)
    for privilege in wanted:
        if privilege in BUILTIN_GROUPS or privilege in state.groups:
            raise ParameterError(f"privilege group [{privilege}] cannot be put in another group")
        if not any(privilege in p for p in OBJECT_PRIVILEGES.values()) or privilege == ALL:
            raise SecurityError(f"not found the privilege name[{privilege}]")
    current = list(state.groups[name])
    if add:
        current += [p for p in wanted if p not in current]
    else:
        current = [p for p in current if p not in wanted]
    return _bump(state, groups={**state.groups, name: tuple(current)})


def restore(state: RbacState, backup: Mapping[str, Any]) -> RbacState:
    """Merge a ``BackupRBAC`` document: users (with their hashes), roles, bindings,
    grants and groups; anything that already exists is an error, nothing applied."""
    users = {u["name"]: u["password_hash"] for u in backup.get("users", ())}
    roles = [r for r in backup.get("roles", ()) if r not in DEFAULT_ROLES]
    groups = {g["name"]: tuple(g["privileges"]) for g in backup.get("groups", ())}
    taken_users = sorted(set(users) & set(state.users))
    if taken_users:
        raise SecurityError(f"user [{taken_users[0]}] already exists")
    taken_roles = sorted(set(roles) & set(state.roles))
    if taken_roles:
        raise SecurityError(f"role [{taken_roles[0]}] already exists")
    taken_groups = sorted(set(groups) & (set(state.groups) | set(BUILTIN_GROUPS)))
    if taken_groups:
        raise SecurityError(f"privilege group [{taken_groups[0]}] already exists")
    new = _bump(
        state,
        users={**state.users, **{check_username(u): h for u, h in users.items()}},
        roles=(*state.roles, *(check_role_name(r) for r in roles)),
        groups={**state.groups, **groups},
    )
    bound = dict(new.user_roles)
    for u in backup.get("users", ()):
        bound[u["name"]] = tuple(r for r in u.get("roles", ()) if r in new.roles)
    grants = list(new.grants)
    for g in backup.get("grants", ()):
        item = Grant(**g)
        if item.role in new.roles and all(x.key() != item.key() for x in grants):
            grants.append(item)
    return replace(new, user_roles=bound, grants=tuple(grants))


def backup(state: RbacState) -> dict[str, Any]:
    """What ``BackupRBAC`` returns (without root and the default roles' bindings)."""
    return {
        "users": [
            {"name": u, "password_hash": h, "roles": list(state.roles_of(u))}
            for u, h in sorted(state.users.items())
            if u != ROOT_USER
        ],
        "roles": [r for r in state.roles if r not in DEFAULT_ROLES],
        "grants": [vars(g) for g in state.grants],
        "groups": [{"name": n, "privileges": list(p)} for n, p in sorted(state.groups.items())],
    }
