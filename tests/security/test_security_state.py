"""The engine keeps the RBAC state durably: across a restart, through a failed save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from elanus.engine.engine import Engine
from elanus.errors import ParameterError
from elanus.security import rbac
from elanus.security.audit import AUDIT_FILE


def test_users_roles_and_grants_survive_a_restart(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as engine:
        engine.enable_authorization("Milvus")
        engine.update_security(
            lambda s: rbac.create_user(s, "alice", "secret123"), event="create_user", user="root"
        )
        engine.update_security(lambda s: rbac.create_role(s, "r"), event="create_role", user="root")
        state = engine.security_state()
        grant = rbac.v1_grant(state, "r", "Collection", "c", "Search", "default")
        engine.update_security(lambda s: rbac.grant(s, grant), event="grant", user="root")
    with Engine.open(str(tmp_path)) as engine:
        state = engine.security_state()
        assert state.auth_enabled
        assert sorted(state.users) == ["alice", "root"]
        assert any(g.privilege == "Search" for g in state.grants)
    assert (tmp_path / "security.json").stat().st_mode & 0o077 == 0


def test_a_refused_change_leaves_file_and_state_alone(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as engine:
        engine.enable_authorization("Milvus")
        before = (tmp_path / "security.json").read_bytes()
        with pytest.raises(ParameterError, match="user already exists"):
            engine.update_security(
                lambda s: rbac.create_user(s, "root", "secret123"), event="create_user", user=""
            )
        assert (tmp_path / "security.json").read_bytes() == before


def test_a_damaged_state_file_is_an_error_not_an_open_door(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as engine:
        engine.enable_authorization("Milvus")
    path = tmp_path / "security.json"
    doc = json.loads(path.read_text())
    doc["security"] = doc["security"].replace('"auth_enabled": true', '"auth_enabled": false')
    path.write_text(json.dumps(doc))
    with pytest.raises(Exception, match="damaged"):
        Engine.open(str(tmp_path))


def test_audit_log_records_changes_without_passwords(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as engine:
        engine.enable_authorization("Milvus")
        engine.update_security(
            lambda s: rbac.create_user(s, "alice", "Sup3rSecret"),
            event="create_user",
            user="root",
            target="alice",
        )
    lines = [json.loads(x) for x in (tmp_path / AUDIT_FILE).read_text().splitlines()]
    assert [x["event"] for x in lines] == ["enable_authorization", "create_user"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"Sup3rSecret" not in path.read_bytes(), path
