"""REST v2 users, roles and privilege groups (``/v2/vectordb/users/*``, ``roles/*``,
``privilege_groups/*``), as Milvus serves them: the same ``elanus.security.rbac``
changes as the gRPC handlers, through ``EngineAPI.update_security``. The caller's
name comes from the REST auth middleware (``rest_auth.CALLER``)."""

from __future__ import annotations

from typing import Any

from elanus.engine.api import DEFAULT_DATABASE, EngineAPI
from elanus.security import rbac
from elanus.security.model import Grant
from elanus.security.privileges import BUILTIN_GROUPS
from elanus.server.auth import resolver
from elanus.server.handlers_rbac import select_grants
from elanus.server.rest_auth import CALLER
from elanus.server.rest_body import Reply, RestBody, endpoint

__all__: list[str] = []


def _change(engine: EngineAPI, event: str, change: Any, **details: Any) -> None:
    engine.update_security(change, event=event, user=CALLER.get(), **details)


# --- users ---------------------------------------------------------------------------------
@endpoint("users/list")
def list_users(engine: EngineAPI, body: RestBody) -> Any:
    return sorted(engine.security_state().users)


@endpoint("users/describe")
def describe_user(engine: EngineAPI, body: RestBody) -> Any:
    name = body.text("userName")
    state = engine.security_state()
    roles = list(state.roles_of(name)) if name in state.users else []
    return Reply(roles, {"description": state.user_descriptions.get(name, "")})


@endpoint("users/create")
def create_user(engine: EngineAPI, body: RestBody) -> Any:
    name, password = body.text("userName"), body.text("password")
    text = body.optional_text("description")
    _change(engine, "create_user", lambda s: rbac.create_user(s, name, password, text), target=name)


@endpoint("users/update_password")
def update_password(engine: EngineAPI, body: RestBody) -> Any:
    name = body.text("userName")
    old, new = body.optional_text("password"), body.optional_text("newPassword")
    text = body.value("description")
    _change(
        engine,
        "update_password",
        lambda s: rbac.update_password(
            s, name, old, new, check_old=True, description=None if text is None else str(text)
        ),
        target=name,
    )


@endpoint("users/drop")
def drop_user(engine: EngineAPI, body: RestBody) -> Any:
    name = body.text("userName")
    _change(engine, "delete_user", lambda s: rbac.delete_user(s, name), target=name)


@endpoint("users/grant_role")
def grant_role(engine: EngineAPI, body: RestBody) -> Any:
    user, role = body.text("userName"), body.text("roleName")
    _change(
        engine, "grant_role", lambda s: rbac.add_user_to_role(s, user, role), target=user, role=role
    )


@endpoint("users/revoke_role")
def revoke_role(engine: EngineAPI, body: RestBody) -> Any:
    user, role = body.text("userName"), body.text("roleName")
    _change(
        engine,
        "revoke_role",
        lambda s: rbac.remove_user_from_role(s, user, role),
        target=user,
        role=role,
    )


# --- roles ---------------------------------------------------------------------------------
@endpoint("roles/list")
def list_roles(engine: EngineAPI, body: RestBody) -> Any:
    return list(engine.security_state().roles)


@endpoint("roles/describe")
def describe_role(engine: EngineAPI, body: RestBody) -> Any:
    name = body.text("roleName")
    state = engine.security_state()
    db = body.optional_text("dbName") or body.header_db or DEFAULT_DATABASE
    grants = [
        {
            "objectType": g.object_type,
            "objectName": g.object_name,
            "privilege": g.privilege,
            "dbName": g.db_name,
            "grantor": g.grantor,
        }
        for g in select_grants(state, name, "", "", db)
    ]
    return Reply(grants, {"description": state.role_descriptions.get(name, "")})


@endpoint("roles/create")
def create_role(engine: EngineAPI, body: RestBody) -> Any:
    name, text = body.text("roleName"), body.optional_text("description")
    _change(engine, "create_role", lambda s: rbac.create_role(s, name, text), role=name)


@endpoint("roles/drop")
def drop_role(engine: EngineAPI, body: RestBody) -> Any:
    name, force = body.text("roleName"), body.flag("forceDrop")
    _change(engine, "drop_role", lambda s: rbac.drop_role(s, name, force=force), role=name)


def _operate(engine: EngineAPI, grant: Grant, event: str) -> None:
    change = rbac.grant if event == "grant" else rbac.revoke
    _change(engine, event, lambda s: change(s, grant), **grant.details())


def _v1(engine: EngineAPI, body: RestBody) -> Grant:
    db = body.optional_text("dbName") or body.header_db or DEFAULT_DATABASE
    object_type, name = body.text("objectType"), body.text("objectName")
    if object_type == "Collection" and name != "*":
        name = resolver(engine)(db, name)
    return rbac.v1_grant(
        engine.security_state(),
        body.text("roleName"),
        object_type,
        name,
        body.text("privilege"),
        db,
        CALLER.get(),
    )


def _v2(engine: EngineAPI, body: RestBody) -> Grant:
    db = body.optional_text("dbName") or "*"
    name = body.optional_text("collectionName") or "*"
    if name != "*" and db != "*":
        name = resolver(engine)(db, name)
    return rbac.v2_grant(
        engine.security_state(),
        body.text("roleName"),
        body.text("privilege"),
        name,
        db,
        CALLER.get(),
    )


@endpoint("roles/grant_privilege")
def grant_privilege(engine: EngineAPI, body: RestBody) -> Any:
    _operate(engine, _v1(engine, body), "grant")


@endpoint("roles/revoke_privilege")
def revoke_privilege(engine: EngineAPI, body: RestBody) -> Any:
    _operate(engine, _v1(engine, body), "revoke")


@endpoint("roles/grant_privilege_v2")
def grant_privilege_v2(engine: EngineAPI, body: RestBody) -> Any:
    _operate(engine, _v2(engine, body), "grant")


@endpoint("roles/revoke_privilege_v2")
def revoke_privilege_v2(engine: EngineAPI, body: RestBody) -> Any:
    _operate(engine, _v2(engine, body), "revoke")


# --- privilege groups ---------------------------------------------------------------------
@endpoint("privilege_groups/create")
def create_group(engine: EngineAPI, body: RestBody) -> Any:
    name = body.text("privilegeGroupName")
    _change(engine, "create_privilege_group", lambda s: rbac.create_group(s, name), group=name)


@endpoint("privilege_groups/drop")
def drop_group(engine: EngineAPI, body: RestBody) -> Any:
    name = body.text("privilegeGroupName")
    _change(engine, "drop_privilege_group", lambda s: rbac.drop_group(s, name), group=name)


@endpoint("privilege_groups/list")
def list_groups(engine: EngineAPI, body: RestBody) -> Any:
    groups = {**BUILTIN_GROUPS, **engine.security_state().groups}
    return {
        "privilegeGroups": [
            {"privilegeGroupName": name, "privileges": ",".join(privileges)}
            for name, privileges in groups.items()
        ]
    }


def _alter(engine: EngineAPI, body: RestBody, add: bool) -> None:
    name = body.text("privilegeGroupName")
    privileges = body.text_list("privileges", required=True) or []
    _change(
        engine,
        "add_privileges_to_group" if add else "remove_privileges_from_group",
        lambda s: rbac.alter_group(s, name, privileges, add=add),
        group=name,
        privileges=privileges,
    )


@endpoint("privilege_groups/add_privileges_to_group")
def add_privileges(engine: EngineAPI, body: RestBody) -> Any:
    _alter(engine, body, True)


@endpoint("privilege_groups/remove_privileges_from_group")
def remove_privileges(engine: EngineAPI, body: RestBody) -> Any:
    _alter(engine, body, False)
