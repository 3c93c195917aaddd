"""The audit log: one JSON object per line for each security-relevant event (a
failed login, a credential change, a grant or revoke, a dropped database or
collection), appended to ``audit.log`` in the data directory. Callers pass names
only; nothing here ever receives a password."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

__all__ = ["AUDIT_FILE", "AuditLog"]

AUDIT_FILE = "audit.log"


class AuditLog:
    def __init__(self, data_dir: str) -> None:
        self.path = os.path.join(data_dir, AUDIT_FILE)
        self._lock = threading.Lock()

    def record(self, event: str, user: str, **details: Any) -> None:
        line = json.dumps(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "event": event,
                "user": user,
                **details,
            },
            sort_keys=True,
            default=str,
        )
        with self._lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as src:
            return [json.loads(line) for line in src if line.strip()]
