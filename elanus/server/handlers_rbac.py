"""Users, roles, grants and privilege groups over gRPC: Milvus's credential and
RBAC RPCs. Each change is one ``elanus.security.rbac`` function applied through
``EngineAPI.update_security`` (durable, audited); pymilvus sends passwords
base64-encoded, and they go no further than the hashing."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pymilvus.grpc_gen import milvus_pb2

from elanus.engine.api import EngineAPI
from elanus.errors import ParameterError, SecurityError
from elanus.security import rbac
from elanus.security.model import Grant, RbacState
from elanus.security.privileges import BUILTIN_GROUPS
from elanus.server.auth import resolver
from elanus.server.rpc import Call, RpcStats, rpc

__all__ = ["SecurityHandlers", "grant_entity", "select_grants"]


def _password(raw: str, what: str) -> str:
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ParameterError(f"invalid {what}: it must be base64-encoded") from None


def select_grants(
    state: RbacState, role: str, object_type: str, object_name: str, db_name: str
) -> list[Grant]:
    """The role's grants, filtered as SelectGrant filters them (a database filter
    also shows the role's grants on every database, ``*``)."""
    if role not in state.roles:
        raise SecurityError(
            "not found the role, maybe the role isn't existed or internal system error"
        )
    found = []
    for g in state.grants:
        if g.role != role:
            continue
        if object_type and g.object_type != object_type:
            continue
        if object_name and g.object_name != object_name:
            continue
        if db_name and g.db_name not in (db_name, "*"):
            continue
        found.append(g)
    return found


def grant_entity(g: Grant) -> milvus_pb2.GrantEntity:
    entity = milvus_pb2.GrantEntity(object_name=g.object_name, db_name=g.db_name)
    entity.role.name = g.role
    entity.object.name = g.object_type
    entity.grantor.user.name = g.grantor
    entity.grantor.privilege.name = g.privilege
    return entity


def _group_info(name: str, privileges: tuple[str, ...]) -> milvus_pb2.PrivilegeGroupInfo:
    info = milvus_pb2.PrivilegeGroupInfo(group_name=name)
    for p in privileges:
        info.privileges.add(name=p)
    return info


class SecurityHandlers:
    engine: EngineAPI
    stats: RpcStats

    def _change(self, call: Call, event: str, change: Any, **details: Any) -> None:
        self.engine.update_security(change, event=event, user=call.user, **details)

    # --- users ---------------------------------------------------------------------------
    @rpc
    def CreateCredential(self, request: milvus_pb2.CreateCredentialRequest, call: Call) -> Any:
        password = _password(request.password, "password")
        self._change(
            call,
            "create_user",
            lambda s: rbac.create_user(s, request.username, password, request.description),
            target=request.username,
        )

    @rpc
    def UpdateCredential(self, request: milvus_pb2.UpdateCredentialRequest, call: Call) -> Any:
        old = _password(request.oldPassword, "old password")
        new = _password(request.newPassword, "new password")
        self._change(
            call,
            "update_password",
            lambda s: rbac.update_password(
                s,
                request.username,
                old,
                new,
                check_old=True,
                description=request.description if request.HasField("description") else None,
            ),
            target=request.username,
        )

    @rpc
    def DeleteCredential(self, request: milvus_pb2.DeleteCredentialRequest, call: Call) -> Any:
        self._change(
            call,
            "delete_user",
            lambda s: rbac.delete_user(s, request.username),
            target=request.username,
        )

    @rpc
    def ListCredUsers(self, request: Any, call: Call) -> Any:
        return milvus_pb2.ListCredUsersResponse(
            usernames=sorted(self.engine.security_state().users)
        )

    @rpc
    def SelectUser(self, request: milvus_pb2.SelectUserRequest, call: Call) -> Any:
        state = self.engine.security_state()
        reply = milvus_pb2.SelectUserResponse()
        wanted = request.user.name if request.HasField("user") else ""
        if wanted and wanted not in state.users:
            return reply
        for name in [wanted] if wanted else sorted(state.users):
            result = reply.results.add()
            result.user.name = name
            result.description = state.user_descriptions.get(name, "")
            if request.include_role_info:
                for role in state.roles_of(name):
                    result.roles.add(name=role)
        return reply

    # --- roles ---------------------------------------------------------------------------
    @rpc
    def CreateRole(self, request: milvus_pb2.CreateRoleRequest, call: Call) -> Any:
        name, text = request.entity.name, request.entity.description
        self._change(call, "create_role", lambda s: rbac.create_role(s, name, text), role=name)

    @rpc
    def DropRole(self, request: milvus_pb2.DropRoleRequest, call: Call) -> Any:
        name = request.role_name
        self._change(
            call,
            "drop_role",
            lambda s: rbac.drop_role(s, name, force=request.force_drop),
            role=name,
        )

    @rpc
    def OperateUserRole(self, request: milvus_pb2.OperateUserRoleRequest, call: Call) -> Any:
        user, role = request.username, request.role_name
        if request.type == milvus_pb2.AddUserToRole:
            event, change = "grant_role", rbac.add_user_to_role
        elif request.type == milvus_pb2.RemoveUserFromRole:
            event, change = "revoke_role", rbac.remove_user_from_role
        else:
            raise ParameterError(f"invalid operate user role type {request.type}")
        self._change(call, event, lambda s: change(s, user, role), target=user, role=role)

    @rpc
    def SelectRole(self, request: milvus_pb2.SelectRoleRequest, call: Call) -> Any:
        state = self.engine.security_state()
        wanted = request.role.name if request.HasField("role") else ""
        if wanted and wanted not in state.roles:
            raise SecurityError(
                "not found the role, maybe the role isn't existed or internal system error"
            )
        reply = milvus_pb2.SelectRoleResponse()
        for name in [wanted] if wanted else state.roles:
            result = reply.results.add()
            result.role.name = name
            result.role.description = state.role_descriptions.get(name, "")
            if request.include_user_info:
                for user in state.users_in(name):
                    result.users.add(name=user)
        return reply

    # --- grants --------------------------------------------------------------------------
    def _operate(self, call: Call, grant: Grant, kind: int) -> None:
        details = grant.details()
        if kind == milvus_pb2.Grant:
            self._change(call, "grant", lambda s: rbac.grant(s, grant), **details)
        elif kind == milvus_pb2.Revoke:
            self._change(call, "revoke", lambda s: rbac.revoke(s, grant), **details)
        else:
            raise ParameterError(f"invalid operate privilege type {kind}")

    @rpc
    def OperatePrivilege(self, request: milvus_pb2.OperatePrivilegeRequest, call: Call) -> Any:
        e = request.entity
        db = e.db_name or call.db
        name = e.object_name
        if e.object.name == "Collection" and name != "*":
            name = resolver(self.engine)(db, name)
        grant = rbac.v1_grant(
            self.engine.security_state(),
            e.role.name,
            e.object.name,
            name,
            e.grantor.privilege.name,
            db,
            call.user,
        )
        self._operate(call, grant, request.type)

    @rpc
    def OperatePrivilegeV2(self, request: milvus_pb2.OperatePrivilegeV2Request, call: Call) -> Any:
        name = request.collection_name
        if name and name != "*" and request.db_name and request.db_name != "*":
            name = resolver(self.engine)(request.db_name, name)
        grant = rbac.v2_grant(
            self.engine.security_state(),
            request.role.name,
            request.grantor.privilege.name,
            name,
            request.db_name,
            call.user,
        )
        self._operate(call, grant, request.type)

    @rpc
    def SelectGrant(self, request: milvus_pb2.SelectGrantRequest, call: Call) -> Any:
        e = request.entity
        if not e.role.name:
            raise SecurityError("the role entity in the grant entity is nil or empty")
        grants = select_grants(
            self.engine.security_state(), e.role.name, e.object.name, e.object_name, e.db_name
        )
        return milvus_pb2.SelectGrantResponse(entities=[grant_entity(g) for g in grants])

    # --- privilege groups ------------------------------------------------------------------
    @rpc
    def CreatePrivilegeGroup(
        self, request: milvus_pb2.CreatePrivilegeGroupRequest, call: Call
    ) -> Any:
        name = request.group_name
        self._change(
            call, "create_privilege_group", lambda s: rbac.create_group(s, name), group=name
        )

    @rpc
    def DropPrivilegeGroup(self, request: milvus_pb2.DropPrivilegeGroupRequest, call: Call) -> Any:
        name = request.group_name
        self._change(call, "drop_privilege_group", lambda s: rbac.drop_group(s, name), group=name)

    @rpc
    def ListPrivilegeGroups(self, request: Any, call: Call) -> Any:
        state = self.engine.security_state()
        groups = [_group_info(n, p) for n, p in BUILTIN_GROUPS.items()]
        groups += [_group_info(n, p) for n, p in state.groups.items()]
        return milvus_pb2.ListPrivilegeGroupsResponse(privilege_groups=groups)

    @rpc
    def OperatePrivilegeGroup(
        self, request: milvus_pb2.OperatePrivilegeGroupRequest, call: Call
    ) -> Any:
        name = request.group_name
        privileges = [p.name for p in request.privileges]
        if request.type not in (
            milvus_pb2.AddPrivilegesToGroup,
            milvus_pb2.RemovePrivilegesFromGroup,
        ):
            raise ParameterError(f"invalid operate privilege group type {request.type}")
        add = request.type == milvus_pb2.AddPrivilegesToGroup
        self._change(
            call,
            "add_privileges_to_group" if add else "remove_privileges_from_group",
            lambda s: rbac.alter_group(s, name, privileges, add=add),
            group=name,
            privileges=privileges,
        )

    # --- backup --------------------------------------------------------------------------
    @rpc
    def BackupRBAC(self, request: Any, call: Call) -> Any:
        doc = rbac.backup(self.engine.security_state())
        meta = milvus_pb2.RBACMeta()
        for u in doc["users"]:
            info = meta.users.add(user=u["name"], password=u["password_hash"])
            for role in u["roles"]:
                info.roles.add(name=role)
        for role in doc["roles"]:
            meta.roles.add(name=role)
        for g in doc["grants"]:
            meta.grants.append(grant_entity(Grant(**g)))
        for g in doc["groups"]:
            meta.privilege_groups.append(_group_info(g["name"], tuple(g["privileges"])))
        self.engine.audit("backup_rbac", call.user)
        return milvus_pb2.BackupRBACMetaResponse(RBAC_meta=meta)

    @rpc
    def RestoreRBAC(self, request: milvus_pb2.RestoreRBACMetaRequest, call: Call) -> Any:
        meta = request.RBAC_meta
        for u in meta.users:
            if not u.password.startswith("$argon2"):
                raise ParameterError(
                    f"cannot restore user {u.user}: its password hash is not one Elanus "
                    "can check (argon2 expected)"
                )
        doc = {
            "users": [
                {"name": u.user, "password_hash": u.password, "roles": [r.name for r in u.roles]}
                for u in meta.users
            ],
            "roles": [r.name for r in meta.roles],
            "grants": [
                {
                    "role": g.role.name,
                    "object_type": g.object.name,
                    "object_name": g.object_name,
                    "db_name": g.db_name,
                    "privilege": g.grantor.privilege.name,
                    "grantor": g.grantor.user.name,
                }
                for g in meta.grants
            ],
            "groups": [
                {"name": g.group_name, "privileges": [p.name for p in g.privileges]}
                for g in meta.privilege_groups
            ],
        }
        self._change(call, "restore_rbac", lambda s: rbac.restore(s, doc))
