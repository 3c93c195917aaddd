"""Authentication and role-based access control as plain data and rules: password
hashing, name rules, the privilege table, the RBAC model and its changes, the audit
log. Lower layer: the engine persists the model, the front doors enforce it."""

from elanus.security.model import ADMIN_ROLE, PUBLIC_ROLE, ROOT_USER, Grant, RbacState
from elanus.security.privileges import REST_PRIVILEGES, RPC_PRIVILEGES, Needs

__all__ = [
    "ADMIN_ROLE",
    "PUBLIC_ROLE",
    "REST_PRIVILEGES",
    "ROOT_USER",
    "RPC_PRIVILEGES",
    "Grant",
    "Needs",
    "RbacState",
]
