"""The REST door of a real ``elanus serve --auth``: every endpoint of the route
table refused without a credential (401), refused without the privilege its RPC
needs (403), let through with it; and the users/roles/privilege_groups endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ServerProcess, start_server

from elanus.security.privileges import CLUSTER_LEVEL, REST_PRIVILEGES, RPC_PRIVILEGES
from elanus.server.rest_app import rest_routes

_PUBLIC = {"DescribeCollection", "ListAliases", "IndexDetail"}
_GHOST = "ghost_object"
_PREFIX = "/v2/vectordb/"
ENDPOINTS = sorted(
    str(r.path)[len(_PREFIX) :]
    for r in rest_routes(lambda: None)
    if str(getattr(r, "path", "")).startswith(_PREFIX) and "{" not in str(r.path)
)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    patch = pytest.MonkeyPatch()
    patch.setenv("ELANUS_AUTH", "true")
    try:
        proc = start_server(tmp_path_factory.mktemp("elanus-rest-auth"))
    finally:
        patch.undo()
    yield proc
    proc.stop()


def _post(
    server: ServerProcess, path: str, body: dict[str, Any], token: str | None
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{server.http_url}{_PREFIX}{path}", data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _root(server: ServerProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    status, reply = _post(server, path, body, "root:Milvus")
    assert status == 200 and reply["code"] == 0, (path, reply)
    return reply


@pytest.fixture(scope="module")
def users(auth_server: ServerProcess) -> ServerProcess:
    _root(auth_server, "users/create", {"userName": "plain", "password": "plain-pass"})
    _root(auth_server, "users/create", {"userName": "granted", "password": "granted-pass"})
    _root(auth_server, "roles/create", {"roleName": "matrix"})
    _root(auth_server, "users/grant_role", {"userName": "granted", "roleName": "matrix"})
    return auth_server


_BODY = {"collectionName": _GHOST, "userName": _GHOST, "dbName": "default"}


def test_every_registered_endpoint_is_in_the_table() -> None:
    assert len(ENDPOINTS) > 50
    assert [e for e in ENDPOINTS if e not in REST_PRIVILEGES] == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_credential_is_401(users: ServerProcess, path: str) -> None:
    status, reply = _post(users, path, _BODY, None)
    assert (status, reply["code"]) == (401, 1800)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_user_without_the_privilege(users: ServerProcess, path: str) -> None:
    needs = RPC_PRIVILEGES[REST_PRIVILEGES[path]]
    status, reply = _post(users, path, _BODY, "plain:plain-pass")
    if needs is None or needs.privilege in _PUBLIC:
        assert status == 200, (path, reply)
    else:
        assert status == 403, (path, reply)
        assert f"Privilege{needs.privilege}: permission deny to plain" in reply["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_user_with_the_privilege(users: ServerProcess, path: str) -> None:
    needs = RPC_PRIVILEGES[REST_PRIVILEGES[path]]
    if needs is None:
        assert _post(users, path, _BODY, "granted:granted-pass")[0] == 200
        return
    grant = {
        "roleName": "matrix",
        "objectType": needs.object_type,
        "objectName": _GHOST if needs.field is not None else "*",
        "privilege": needs.privilege,
        "dbName": "*" if needs.privilege in CLUSTER_LEVEL else "default",
    }
    _root(users, "roles/grant_privilege", grant)
    try:
        status, reply = _post(users, path, _BODY, "granted:granted-pass")
        assert status == 200, (path, reply)
    finally:
        _root(users, "roles/revoke_privilege", grant)


def test_user_and_role_endpoints_round_trip(auth_server: ServerProcess) -> None:
    _root(
        auth_server,
        "users/create",
        {"userName": "dora", "password": "dora-pass", "description": "d"},
    )
    status, reply = _post(
        auth_server, "users/create", {"userName": "dora", "password": "x" * 8}, "root:Milvus"
    )
    assert (status, reply["code"]) == (200, 1100) and "user already exists" in reply["message"]
    _root(auth_server, "roles/create", {"roleName": "writer", "description": "writes"})
    _root(
        auth_server,
        "roles/grant_privilege_v2",
        {
            "roleName": "writer",
            "privilege": "CollectionReadWrite",
            "collectionName": "*",
            "dbName": "default",
        },
    )
    _root(auth_server, "users/grant_role", {"userName": "dora", "roleName": "writer"})
    described = _root(auth_server, "users/describe", {"userName": "dora"})
    assert described["data"] == ["writer"] and described["description"] == "d"
    role = _root(auth_server, "roles/describe", {"roleName": "writer"})
    assert role["description"] == "writes"
    assert [g["privilege"] for g in role["data"]] == ["CollectionReadWrite"]
    assert "writer" in _root(auth_server, "roles/list", {})["data"]
    _root(auth_server, "privilege_groups/create", {"privilegeGroupName": "pg1"})
    _root(
        auth_server,
        "privilege_groups/add_privileges_to_group",
        {"privilegeGroupName": "pg1", "privileges": ["Query", "Search"]},
    )
    groups = _root(auth_server, "privilege_groups/list", {})["data"]["privilegeGroups"]
    assert {"privilegeGroupName": "pg1", "privileges": "Query,Search"} in groups
    status, reply = _post(auth_server, "roles/drop", {"roleName": "writer"}, "root:Milvus")
    assert reply["code"] != 0 and "has privileges" in reply["message"]
    _root(
        auth_server,
        "roles/revoke_privilege_v2",
        {
            "roleName": "writer",
            "privilege": "CollectionReadWrite",
            "collectionName": "*",
            "dbName": "default",
        },
    )
    _root(auth_server, "roles/drop", {"roleName": "writer"})
    _root(auth_server, "users/drop", {"userName": "dora"})
    assert "dora" not in _root(auth_server, "users/list", {})["data"]


def test_basic_auth_and_colonless_bearer(auth_server: ServerProcess) -> None:
    import base64

    request = urllib.request.Request(
        f"{auth_server.http_url}{_PREFIX}collections/list",
        data=b"{}",
        headers={"Authorization": "Basic " + base64.b64encode(b"root:Milvus").decode()},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.loads(answer.read())["code"] == 0
    status, reply = _post(auth_server, "collections/list", {}, "rootMilvus")
    assert (status, reply["code"]) == (401, 1800) and "user:password" in reply["message"]


def test_a_dropped_collection_is_audited_with_its_name(auth_server: ServerProcess) -> None:
    _root(auth_server, "collections/create", {"collectionName": "doomed_rest", "dimension": 4})
    _root(auth_server, "collections/drop", {"collectionName": "doomed_rest"})
    status, _ = _post(auth_server, "collections/drop", {"collectionName": "doomed_rest"}, "x:y")
    assert status == 401
    events = [json.loads(x) for x in (auth_server.data_dir / "audit.log").read_text().splitlines()]
    drops = [e for e in events if e["event"] == "DropCollection" and e["name"] == "doomed_rest"]
    assert [(e["user"], e["database"]) for e in drops] == [("root", "default")]


def test_with_auth_off_a_rest_drop_is_audited_as_over_grpc(tmp_path: Any) -> None:
    proc = start_server(tmp_path / "plain")
    try:
        _post(proc, "collections/create", {"collectionName": "gone_rest", "dimension": 4}, None)
        status, reply = _post(proc, "collections/drop", {"collectionName": "gone_rest"}, None)
        assert (status, reply["code"]) == (200, 0)
        events = [json.loads(x) for x in (proc.data_dir / "audit.log").read_text().splitlines()]
    finally:
        proc.stop()
    drops = [e for e in events if e["event"] == "DropCollection" and e["name"] == "gone_rest"]
    assert [(e["user"], e["database"]) for e in drops] == [("", "default")]
