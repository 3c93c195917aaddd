"""Users, roles, grants and privilege groups, kept durably beside the catalogue.

The whole RBAC model (``elanus.security.model.RbacState``) is one JSON document,
``security.json`` in the data directory, carrying a CRC32 of its body and
replaced atomically (write, fsync, rename, fsync of the directory) on every
change: a crash leaves the old state or the new, never a mix. Changes are
serialised by one lock; readers take the current immutable state without it.
The file holds password hashes only, and is readable by its owner alone.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Callable
from typing import Any

from elanus.engine.state import EngineState
from elanus.errors import StorageError
from elanus.security.audit import AuditLog
from elanus.security.model import RbacState
from elanus.security.rbac import bootstrap

__all__ = ["SECURITY_FILE", "SecurityOperations"]

SECURITY_FILE = "security.json"


class SecurityOperations(EngineState):
    _security: RbacState
    _security_lock: threading.Lock
    audit_log: AuditLog

    def _open_security(self) -> None:
        self._security_lock = threading.Lock()
        self.audit_log = AuditLog(self.data_dir)
        path = self._security_path()
        if not self.fs.exists(path):
            self._security = RbacState()
            return
        try:
            doc = json.loads(self.fs.read_bytes(path))
            body = doc["security"]
            if zlib.crc32(body.encode()) != doc["crc32"]:
                raise ValueError("checksum mismatch")
            self._security = RbacState.from_json(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"security state {path} is damaged: {exc}") from exc

    def _security_path(self) -> str:
        return os.path.join(self.data_dir, SECURITY_FILE)

    def _save_security(self, state: RbacState) -> None:
        body = json.dumps(state.to_json(), sort_keys=True)
        doc = json.dumps({"crc32": zlib.crc32(body.encode()), "security": body})
        path = self._security_path()
        self.fs.write_atomic(path, doc.encode())
        os.chmod(path, 0o600)

    # --- EngineAPI ------------------------------------------------------------------------
    def security_state(self) -> RbacState:
        return self._security

    def enable_authorization(self, root_password: str) -> None:
        """Turn authorization on for this data directory (for good: the flag is kept,
        so later opens, embedded ones included, stay protected) and create ``root``."""
        self.update_security(
            lambda state: bootstrap(state, root_password, enable=True),
            event="enable_authorization",
            user="",
        )

    def update_security(
        self,
        change: Callable[[RbacState], RbacState],
        *,
        event: str,
        user: str,
        **details: Any,
    ) -> RbacState:
        """Apply ``change`` to the current state, persist the result, then publish
        it; a change that raises, or a failed save, leaves everything as it was.
        Each change that alters the state is recorded in the audit log."""
        with self._security_lock:
            current = self._security
            new = change(current)
            if new is current:
                return current
            self._save_security(new)
            self._security = new
        self.audit_log.record(event, user, **details)
        return new

    def audit(self, event: str, user: str, **details: Any) -> None:
        self.audit_log.record(event, user, **details)
