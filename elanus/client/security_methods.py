"""pymilvus's user, role and privilege methods over the engine's RBAC state, with
the same rules, wording and durability as the server's (``elanus.security.rbac``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elanus.engine.api import DEFAULT_DATABASE, EngineAPI
from elanus.errors import SecurityError
from elanus.security import rbac
from elanus.security.model import Grant
from elanus.security.privileges import ANY, BUILTIN_GROUPS

__all__ = ["SecurityMethods"]


class SecurityMethods:
    _engine: EngineAPI
    _db: str
    _user: str | None
    # The client's alias lookup (grants name collections, never aliases).
    _resolve_alias: Callable[[str, str], str]

    def _change(self, event: str, change: Any, **details: Any) -> None:
        self._engine.update_security(change, event=event, user=self._user or "", **details)

    # --- users -----------------------------------------------------------------------------
    def create_user(
        self, user_name: str, password: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        text = str(kwargs.get("description") or "")
        self._change(
            "create_user",
            lambda s: rbac.create_user(s, user_name, password, text),
            target=user_name,
        )

    def drop_user(self, user_name: str, timeout: float | None = None, **kwargs: Any) -> None:
        self._change("delete_user", lambda s: rbac.delete_user(s, user_name), target=user_name)

    def update_password(
        self,
        user_name: str,
        old_password: str,
        new_password: str,
        reset_connection: bool | None = False,
        timeout: float | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._change(
            "update_password",
            lambda s: rbac.update_password(
                s, user_name, old_password, new_password, check_old=True, description=description
            ),
            target=user_name,
        )

    def list_users(self, timeout: float | None = None, **kwargs: Any) -> list[str]:
        return sorted(self._engine.security_state().users)

    def describe_user(
        self, user_name: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        state = self._engine.security_state()
        if user_name not in state.users:
            return {}
        return {
            "user_name": user_name,
            "roles": tuple(state.roles_of(user_name)),
            "description": state.user_descriptions.get(user_name, ""),
        }

    # --- roles -----------------------------------------------------------------------------
    def create_role(self, role_name: str, timeout: float | None = None, **kwargs: Any) -> None:
        text = str(kwargs.get("description") or "")
        self._change("create_role", lambda s: rbac.create_role(s, role_name, text), role=role_name)

    def drop_role(
        self, role_name: str, force_drop: bool = False, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._change(
            "drop_role", lambda s: rbac.drop_role(s, role_name, force=force_drop), role=role_name
        )

    def list_roles(self, timeout: float | None = None, **kwargs: Any) -> list[str]:
        return list(self._engine.security_state().roles)

    def describe_role(
        self, role_name: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        state = self._engine.security_state()
        if role_name not in state.roles:
            raise SecurityError(
                "not found the role, maybe the role isn't existed or internal system error"
            )
        db = kwargs.get("db_name") or ""
        privileges = [
            {
                "object_type": g.object_type,
                "object_name": g.object_name,
                "db_name": g.db_name,
                "role_name": g.role,
                "privilege": g.privilege,
                "grantor_name": g.grantor,
            }
            for g in state.grants
            if g.role == role_name and (not db or g.db_name in (db, ANY))
        ]
        return {
            "role": role_name,
            "description": state.role_descriptions.get(role_name, ""),
            "privileges": privileges,
        }

    def grant_role(
        self, user_name: str, role_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._change(
            "grant_role",
            lambda s: rbac.add_user_to_role(s, user_name, role_name),
            target=user_name,
            role=role_name,
        )

    def revoke_role(
        self, user_name: str, role_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._change(
            "revoke_role",
            lambda s: rbac.remove_user_from_role(s, user_name, role_name),
            target=user_name,
            role=role_name,
        )

    # --- grants ----------------------------------------------------------------------------
    def _operate(self, grant: Grant, event: str) -> None:
        change = rbac.grant if event == "grant" else rbac.revoke
        self._change(event, lambda s: change(s, grant), **grant.details())

    def _v1(self, role: str, object_type: str, privilege: str, name: str, db: str | None) -> Grant:
        database = db or self._db or DEFAULT_DATABASE
        if object_type == "Collection" and name != ANY:
            name = self._resolve_alias(database, name)
        return rbac.v1_grant(
            self._engine.security_state(),
            role,
            object_type,
            name,
            privilege,
            database,
            self._user or "",
        )

    def grant_privilege(
        self,
        role_name: str,
        object_type: str,
        privilege: str,
        object_name: str,
        db_name: str | None = "",
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._operate(self._v1(role_name, object_type, privilege, object_name, db_name), "grant")

    def revoke_privilege(
        self,
        role_name: str,
        object_type: str,
        privilege: str,
        object_name: str,
        db_name: str | None = "",
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._operate(self._v1(role_name, object_type, privilege, object_name, db_name), "revoke")

    def _v2(self, role: str, privilege: str, collection: str, db: str | None) -> Grant:
        if collection and collection != ANY and db and db != ANY:
            collection = self._resolve_alias(db, collection)
        return rbac.v2_grant(
            self._engine.security_state(),
            role,
            privilege,
            collection or ANY,
            db or ANY,
            self._user or "",
        )

    def grant_privilege_v2(
        self,
        role_name: str,
        privilege: str,
        collection_name: str,
        db_name: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._operate(self._v2(role_name, privilege, collection_name, db_name), "grant")

    def revoke_privilege_v2(
        self,
        role_name: str,
        privilege: str,
        collection_name: str,
        db_name: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._operate(self._v2(role_name, privilege, collection_name, db_name), "revoke")

    # --- privilege groups ---------------------------------------------------------------------
    def create_privilege_group(
        self, privilege_group: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._change(
            "create_privilege_group",
            lambda s: rbac.create_group(s, privilege_group),
            group=privilege_group,
        )

    def drop_privilege_group(
        self, privilege_group: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._change(
            "drop_privilege_group",
            lambda s: rbac.drop_group(s, privilege_group),
            group=privilege_group,
        )

    def list_privilege_groups(
        self, timeout: float | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        groups = {**BUILTIN_GROUPS, **self._engine.security_state().groups}
        return [{"privilege_group": n, "privileges": tuple(p)} for n, p in groups.items()]

    def add_privileges_to_group(
        self,
        privilege_group: str,
        privileges: list[str],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._change(
            "add_privileges_to_group",
            lambda s: rbac.alter_group(s, privilege_group, privileges, add=True),
            group=privilege_group,
            privileges=list(privileges),
        )

    def remove_privileges_from_group(
        self,
        privilege_group: str,
        privileges: list[str],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._change(
            "remove_privileges_from_group",
            lambda s: rbac.alter_group(s, privilege_group, privileges, add=False),
            group=privilege_group,
            privileges=list(privileges),
        )
