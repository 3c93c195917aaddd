"""The embedded client over a data directory with authorization on: the same
users, roles and privilege table as the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import elanus
from elanus.engine.engine import Engine
from elanus.errors import AuthenticationError, PermissionDenied
from elanus.security import rbac


def _protected(path: Path) -> None:
    with Engine.open(str(path)) as engine:
        engine.enable_authorization("Milvus")
        for change in (
            lambda s: rbac.create_user(s, "alice", "alice-pass"),
            lambda s: rbac.create_role(s, "reader"),
            lambda s: rbac.add_user_to_role(s, "alice", "reader"),
        ):
            engine.update_security(change, event="setup", user="root")
        grant = rbac.v1_grant(
            engine.security_state(), "reader", "Collection", "docs", "Query", "default"
        )
        engine.update_security(lambda s: rbac.grant(s, grant), event="grant", user="root")


def test_a_protected_directory_needs_a_credential(tmp_path: Path) -> None:
    _protected(tmp_path / "db")
    with pytest.raises(AuthenticationError, match="auth check failure"):
        elanus.MilvusClient(str(tmp_path / "db"))
    with pytest.raises(AuthenticationError):
        elanus.MilvusClient(str(tmp_path / "db"), user="alice", password="wrong-pass")
    with elanus.MilvusClient(str(tmp_path / "db"), token="root:Milvus") as root:
        root.create_collection("docs", dimension=2)
        root.insert("docs", [{"id": 1, "vector": [0.0, 1.0]}])


def test_privileges_apply_to_every_method(tmp_path: Path) -> None:
    _protected(tmp_path / "db")
    with elanus.MilvusClient(str(tmp_path / "db"), token="root:Milvus") as root:
        root.create_collection("docs", dimension=2)
        root.create_collection("other", dimension=2)
        root.insert("docs", [{"id": 1, "vector": [0.0, 1.0]}])
    with elanus.MilvusClient(str(tmp_path / "db"), user="alice", password="alice-pass") as alice:
        assert [r["id"] for r in alice.query("docs", filter="id >= 0")] == [1]
        with pytest.raises(PermissionDenied) as err:
            alice.insert("docs", [{"id": 2, "vector": [1.0, 0.0]}])
        assert (
            str(err.value) == "PrivilegeInsert: permission deny to alice in the `default` database"
        )
        with pytest.raises(PermissionDenied, match="PrivilegeQuery"):
            alice.query("other", filter="id >= 0")
        with pytest.raises(PermissionDenied, match="PrivilegeDropCollection"):
            alice.drop_collection("docs")
        alice.describe_collection("docs")  # public holds DescribeCollection
        # Listings show what alice's roles hold grants on, as Milvus lists them.
        assert alice.list_collections() == ["docs"]
        assert alice.list_databases() == ["default"]


def test_an_unprotected_directory_ignores_credentials(tmp_path: Path) -> None:
    with elanus.MilvusClient(str(tmp_path / "db"), token="anyone:anything") as client:
        client.create_collection("c", dimension=2)
        assert client.list_collections() == ["c"]


def test_every_public_method_is_guarded_or_local() -> None:
    from elanus.client.guard import CLIENT_RPCS, LOCAL_METHODS
    from elanus.security.privileges import RPC_PRIVILEGES

    public = {n for n in dir(elanus.MilvusClient) if not n.startswith("_")}
    assert public - set(CLIENT_RPCS) - LOCAL_METHODS == set()
    assert all(rpc in RPC_PRIVILEGES for rpc in CLIENT_RPCS.values())


def test_users_roles_and_grants_managed_embedded(tmp_path: Path) -> None:
    _protected(tmp_path / "db")
    path = str(tmp_path / "db")
    with elanus.MilvusClient(path, token="root:Milvus") as root:
        root.create_collection("notes", dimension=2)
        root.create_user("bob", "bob-pass-1", description="writer")
        root.create_role("writer")
        root.grant_role("bob", "writer")
        root.grant_privilege_v2("writer", "CollectionReadWrite", "notes", db_name="default")
        assert root.describe_user("bob") == {
            "user_name": "bob",
            "roles": ("writer",),
            "description": "writer",
        }
        assert [p["privilege"] for p in root.describe_role("writer")["privileges"]] == [
            "CollectionReadWrite"
        ]
        assert "bob" in root.list_users() and "writer" in root.list_roles()
    with elanus.MilvusClient(path, user="bob", password="bob-pass-1") as bob:
        bob.insert("notes", [{"id": 7, "vector": [1.0, 0.0]}])
        with pytest.raises(PermissionDenied, match="PrivilegeCreateOwnership"):
            bob.create_user("eve", "eve-pass-1")
        bob.update_password("bob", "bob-pass-1", "bob-pass-2")
    with pytest.raises(AuthenticationError):
        elanus.MilvusClient(path, user="bob", password="bob-pass-1")
    with elanus.MilvusClient(path, token="root:Milvus") as root:
        with pytest.raises(Exception, match="has privileges"):
            root.drop_role("writer")
        root.drop_role("writer", force_drop=True)
        root.drop_user("bob")
        assert "bob" not in root.list_users()
        root.drop_collection("notes")
    events = [json.loads(x) for x in (tmp_path / "db" / "audit.log").read_text().splitlines()]
    drops = [e for e in events if e["event"] == "DropCollection"]
    assert drops[-1]["name"] == "notes" and drops[-1]["user"] == "root"
    assert any(e["event"] == "login_failure" and e["user"] == "bob" for e in events)


def test_embedded_grants_and_checks_see_through_aliases(tmp_path: Path) -> None:
    _protected(tmp_path / "db")
    path = str(tmp_path / "db")
    with elanus.MilvusClient(path, token="root:Milvus") as root:
        root.create_collection("docs", dimension=2)
        root.create_collection("books", dimension=2)
        root.create_alias("books", "shelf")
        root.grant_privilege("reader", "Collection", "Query", "shelf")
        names = [p["object_name"] for p in root.describe_role("reader")["privileges"]]
        assert sorted(names) == ["books", "docs"]
    with elanus.MilvusClient(path, user="alice", password="alice-pass") as alice:
        assert alice.query("shelf", filter="id >= 0") == []
