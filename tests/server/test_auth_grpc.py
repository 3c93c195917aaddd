"""Authentication and privileges at the gRPC door of a real ``elanus serve --auth``.

The matrix enumerates every RPC the service implements (so a new one cannot be
forgotten) and calls each three ways with raw gRPC stubs: no credential, a user
without the privilege the table names, a user granted exactly that privilege.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import ServerProcess, start_server
from google.protobuf import message_factory
from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException
from pymilvus.grpc_gen import milvus_pb2

from elanus.security.privileges import CLUSTER_LEVEL, RPC_PRIVILEGES
from elanus.server.service import supported_rpcs

_SERVICE = milvus_pb2.DESCRIPTOR.services_by_name["MilvusService"]
# Privileges Milvus gives the public role, so every user holds them.
_PUBLIC = {"DescribeCollection", "ListAliases", "IndexDetail"}
_GHOST = "ghost_object"


@pytest.fixture(scope="module")
def auth_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[ServerProcess]:
    patch = pytest.MonkeyPatch()
    patch.setenv("ELANUS_AUTH", "true")
    try:
        proc = start_server(tmp_path_factory.mktemp("elanus-auth"))
    finally:
        patch.undo()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def root(auth_server: ServerProcess) -> Iterator[MilvusClient]:
    client = MilvusClient(uri=auth_server.uri, token="root:Milvus")
    client.create_user("plain", "plain-pass")
    client.create_user("granted", "granted-pass")
    client.create_role("matrix")
    client.grant_role("granted", "matrix")
    yield client
    client.close()


def _call(server: ServerProcess, name: str, request: Any, token: str | None) -> Any:
    method = _SERVICE.methods_by_name[name]
    reply = message_factory.GetMessageClass(method.output_type)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = channel.unary_unary(
            f"/milvus.proto.milvus.MilvusService/{name}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=reply.FromString,
        )
        metadata = []
        if token is not None:
            metadata.append(("authorization", base64.b64encode(token.encode()).decode()))
        return stub(request, metadata=metadata, timeout=30)


def _request(name: str) -> Any:
    """An empty request naming ``_GHOST`` wherever the table reads the object name."""
    cls = message_factory.GetMessageClass(_SERVICE.methods_by_name[name].input_type)
    request = cls()
    needs = RPC_PRIVILEGES[name]
    if needs is not None and needs.field is not None:
        *path, last = needs.field.split(".")
        target = request
        for part in path:
            target = getattr(target, part)
        if isinstance(getattr(target, last), str):
            setattr(target, last, _GHOST)
        else:
            getattr(target, last).append(_GHOST)
    return request


def _refusal(server: ServerProcess, name: str, token: str | None) -> grpc.StatusCode | None:
    """The gRPC status the door refused with, or None when the call got through."""
    try:
        reply = _call(server, name, _request(name), token)
    except grpc.RpcError as exc:
        code = exc.code()
        assert code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED), (
            name,
            code,
            exc.details(),
        )
        return code  # type: ignore[no-any-return]
    status = getattr(reply, "status", reply)
    if status.code == 1800:
        return grpc.StatusCode.UNAUTHENTICATED
    return None


MATRIX = sorted(supported_rpcs())


def test_matrix_covers_every_served_rpc() -> None:
    assert len(MATRIX) > 60
    assert all(name in RPC_PRIVILEGES for name in MATRIX)


@pytest.mark.parametrize("name", MATRIX)
def test_no_credential_is_refused(
    auth_server: ServerProcess, root: MilvusClient, name: str
) -> None:
    assert _refusal(auth_server, name, None) is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("name", MATRIX)
def test_user_without_the_privilege(
    auth_server: ServerProcess, root: MilvusClient, name: str
) -> None:
    needs = RPC_PRIVILEGES[name]
    refused = _refusal(auth_server, name, "plain:plain-pass")
    if needs is None or needs.privilege in _PUBLIC:
        assert refused is None, name
    else:
        assert refused is grpc.StatusCode.PERMISSION_DENIED, name


@pytest.mark.parametrize("name", MATRIX)
def test_user_with_the_privilege(auth_server: ServerProcess, root: MilvusClient, name: str) -> None:
    needs = RPC_PRIVILEGES[name]
    if needs is None:
        assert _refusal(auth_server, name, "granted:granted-pass") is None
        return
    db = "*" if needs.privilege in CLUSTER_LEVEL else "default"
    target = _GHOST if needs.field is not None else "*"
    root.grant_privilege("matrix", needs.object_type, needs.privilege, target, db_name=db)
    try:
        assert _refusal(auth_server, name, "granted:granted-pass") is None, name
    finally:
        root.revoke_privilege("matrix", needs.object_type, needs.privilege, target, db_name=db)


def test_wrong_password_and_colonless_token_are_auth_failures(auth_server: ServerProcess) -> None:
    for token in ("root:wrong-password", "rootMilvus", "nobody:whatever1"):
        with pytest.raises(MilvusException, match="auth check failure"):
            MilvusClient(uri=auth_server.uri, token=token)


def test_denial_names_privilege_user_and_database(
    auth_server: ServerProcess, root: MilvusClient
) -> None:
    root.create_collection("guarded", dimension=4)
    with pytest.raises(grpc.RpcError) as err:
        user = MilvusClient(uri=auth_server.uri, user="plain", password="plain-pass")
        user.insert("guarded", [{"id": 1, "vector": [0.0, 0.0, 0.0, 1.0]}])
    assert (
        err.value.details() == "PrivilegeInsert: permission deny to plain in the `default` database"
    )


def test_users_change_their_own_password_and_see_themselves(
    auth_server: ServerProcess, root: MilvusClient
) -> None:
    root.create_user("selfish", "first-pass")
    user = MilvusClient(uri=auth_server.uri, user="selfish", password="first-pass")
    assert user.describe_user("selfish")["user_name"] == "selfish"
    user.update_password("selfish", "first-pass", "second-pass")
    # Raw calls: pymilvus may reuse an open connection for the same user.
    old = _refusal(auth_server, "ListDatabases", "selfish:first-pass")
    assert old is grpc.StatusCode.UNAUTHENTICATED
    assert _refusal(auth_server, "ListDatabases", "selfish:second-pass") is None


@pytest.mark.parametrize(
    ("action", "code", "wording"),
    [
        (lambda c: c.create_user("n@me", "secret123"), 1100, "invalid user name n@me"),
        (lambda c: c.create_user("okname", "short"), 1100, "invalid password length"),
        (lambda c: c.create_role("bad role"), 1100, "role name can only contain"),
        (lambda c: c.grant_role("plain", "no_such_role"), 65536, "not found the role"),
        (
            lambda c: c.grant_privilege("no_such_role", "Global", "CreateCollection", "*"),
            65535,
            "not found the role",
        ),
        (
            lambda c: c.grant_privilege("matrix", "Collection", "Levitate", "c"),
            65535,
            "not found the privilege name[Levitate]",
        ),
        (
            lambda c: c.create_privilege_group("bad-group"),
            1100,
            "privilege group name bad-group can only contain numbers, letters and underscores",
        ),
        (
            lambda c: c.add_privileges_to_group("no_such_group", ["Query"]),
            1100,
            "there is no privilege group name [no_such_group] defined in system",
        ),
        (lambda c: c.drop_user("root"), 1401, "root user cannot be deleted"),
        (lambda c: c.drop_role("admin"), 1401, "the role[admin] is a default role"),
    ],
)
def test_bad_input_is_a_milvus_error_and_changes_nothing(
    root: MilvusClient, action: Any, code: int, wording: str
) -> None:
    users, roles = root.list_users(), root.list_roles()
    with pytest.raises(MilvusException) as err:
        action(root)
    assert err.value.code == code
    assert wording in err.value.message
    assert (root.list_users(), root.list_roles()) == (users, roles)


def test_dropping_a_role_that_holds_grants_is_refused(root: MilvusClient) -> None:
    root.create_role("holder")
    root.grant_privilege("holder", "Global", "CreateCollection", "*")
    with pytest.raises(MilvusException, match="has privileges"):
        root.drop_role("holder")
    assert "holder" in root.list_roles()
    root.drop_role("holder", force_drop=True)
    assert "holder" not in root.list_roles()


def test_no_password_in_clear_on_disk_or_in_logs(
    tmp_path: Path,
) -> None:
    secrets = ["Plaintext-Pw-1", "Plaintext-Pw-2", "Root-Secret-9", "Rest-Secret-4"]
    patch = pytest.MonkeyPatch()
    patch.setenv("ELANUS_AUTH", "true")
    patch.setenv("ELANUS_LOG_LEVEL", "DEBUG")
    try:
        server = start_server(tmp_path / "data")
    finally:
        patch.undo()
    try:
        root = MilvusClient(uri=server.uri, token="root:Milvus")
        root.create_user("carol", secrets[0])
        root.update_password("carol", secrets[0], secrets[1])
        for wrong in secrets:
            with pytest.raises(MilvusException):
                MilvusClient(uri=server.uri, user="carol", password=wrong + "x")
        with pytest.raises(MilvusException):
            root.update_password("carol", secrets[0], secrets[2])
        root.drop_user("carol")
        # The same over REST: a user made with a password, a wrong Bearer token.
        rest = f"{server.http_url}/v2/vectordb/"
        _rest(rest + "users/create", {"userName": "dave", "password": secrets[3]}, "root:Milvus")
        assert _rest(rest + "collections/list", {}, f"dave:{secrets[3]}x")[0] == 401
        assert _rest(rest + "collections/list", {}, f"dave:{secrets[3]}")[0] == 200
        root.create_collection("doomed", dimension=2)
        root.drop_collection("doomed")
        root.update_password("root", "Milvus", secrets[2])
    finally:
        server.stop()
    logs = "".join(server.stderr)
    assert "SECURITY WARNING" in logs
    for secret in [*secrets, "Milvus" + ":"]:
        assert secret not in logs
        for path in (tmp_path / "data").rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), (secret, path)
    audit = (tmp_path / "data" / "audit.log").read_text()
    assert re.search(r'"event": "login_failure".*"user": "carol"', audit)
    assert '"event": "update_password"' in audit
    assert re.search(r'"event": "DropCollection", "name": "doomed".*"user": "root"', audit)


def _rest(url: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_listings_show_what_the_user_holds_grants_on(
    auth_server: ServerProcess, root: MilvusClient
) -> None:
    root.create_user("lister", "lister-pass")
    root.create_role("listing")
    root.grant_role("lister", "listing")
    root.create_collection("seen", dimension=2)
    root.create_collection("unseen", dimension=2)
    user = MilvusClient(uri=auth_server.uri, user="lister", password="lister-pass")
    assert user.list_databases() == [] and user.list_collections() == []
    root.grant_privilege("listing", "Collection", "Query", "seen")
    assert user.list_databases() == ["default"]
    assert user.list_collections() == ["seen"]
    assert set(root.list_collections()) >= {"seen", "unseen"}


def test_rbac_state_survives_a_kill_and_auth_stays_on(tmp_path: Path) -> None:
    import signal

    patch = pytest.MonkeyPatch()
    patch.setenv("ELANUS_AUTH", "true")
    try:
        first = start_server(tmp_path / "data")
    finally:
        patch.undo()
    try:
        root = MilvusClient(uri=first.uri, token="root:Milvus")
        root.create_user("durable", "durable-pass")
        root.create_role("keeper")
        root.grant_role("durable", "keeper")
        root.grant_privilege("keeper", "Global", "All", "*")
    finally:
        first.stop(signal.SIGKILL)
    # Started again without --auth: the directory remembers it is protected.
    second = start_server(tmp_path / "data")
    try:
        with pytest.raises(MilvusException, match="auth check failure"):
            MilvusClient(uri=second.uri)
        root = MilvusClient(uri=second.uri, token="root:Milvus")
        assert root.describe_user("durable")["roles"] == ("keeper",)
        grants = root.describe_role("keeper")["privileges"]
        assert [g["privilege"] for g in grants] == ["All"]
        user = MilvusClient(uri=second.uri, user="durable", password="durable-pass")
        user.create_collection("made_by_durable", dimension=2)
    finally:
        second.stop()


def test_a_grant_on_a_collection_covers_its_aliases(
    auth_server: ServerProcess, root: MilvusClient
) -> None:
    root.create_user("aliaser", "aliaser-pass")
    root.create_role("alias_reader")
    root.grant_role("aliaser", "alias_reader")
    root.create_collection("real_name", dimension=2)
    root.create_alias("real_name", "nickname")
    # Granted by the alias, stored and checked under the collection's own name.
    root.grant_privilege("alias_reader", "Collection", "Query", "nickname")
    grants = root.describe_role("alias_reader")["privileges"]
    assert [g["object_name"] for g in grants] == ["real_name"]
    user = MilvusClient(uri=auth_server.uri, user="aliaser", password="aliaser-pass")
    assert user.query("nickname", filter="id >= 0") == []
    assert user.query("real_name", filter="id >= 0") == []


def test_with_authorization_off_any_token_is_ignored(server: ServerProcess) -> None:
    for token in ("nobody:nothing", "no-colon-at-all"):
        client = MilvusClient(uri=server.uri, token=token)
        assert "default" in client.list_databases()
        client.close()
    status = _rest(f"{server.http_url}/v2/vectordb/collections/list", {}, "nobody:nothing")
    assert status[0] == 200 and status[1]["code"] == 0
