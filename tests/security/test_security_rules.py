"""The security layer's rules: names, passwords, the privilege table, RBAC changes."""

from __future__ import annotations

import pytest
from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.errors import AuthenticationError, ParameterError, PermissionDenied, SecurityError
from elanus.security import rbac
from elanus.security.authn import MAX_FAILURES, WINDOW_S, Authenticator, split_token
from elanus.security.model import RbacState
from elanus.security.names import check_password, check_role_name, check_username
from elanus.security.passwords import hash_password, verify_password
from elanus.security.privileges import BUILTIN_GROUPS, REST_PRIVILEGES, RPC_PRIVILEGES


def _state() -> RbacState:
    return rbac.bootstrap(RbacState(), "Milvus", enable=True)


def test_table_matches_the_privileges_milvus_protocol_declares() -> None:
    service = milvus_pb2.DESCRIPTOR.services_by_name["MilvusService"]
    ext = common_pb2.privilege_ext_obj
    assert set(RPC_PRIVILEGES) == {m.name for m in service.methods}
    for method in service.methods:
        options = method.input_type.GetOptions()
        needs = RPC_PRIVILEGES[method.name]
        if not options.HasExtension(ext):
            assert needs is None, method.name
            continue
        declared = options.Extensions[ext]
        assert needs is not None, method.name
        assert needs.object_type == common_pb2.ObjectType.Name(declared.object_type)
        assert "Privilege" + needs.privilege == common_pb2.ObjectPrivilege.Name(
            declared.object_privilege
        )
        index = declared.object_name_index or declared.object_name_indexs
        if index > 0:
            field = method.input_type.fields_by_number[index]
            assert needs.field is not None and needs.field.split(".")[0] == field.name
        else:
            assert needs.field is None, method.name


def test_every_rest_endpoint_names_an_rpc_of_the_table() -> None:
    assert all(rpc in RPC_PRIVILEGES for rpc in REST_PRIVILEGES.values())


def test_builtin_groups_are_milvus_names() -> None:
    names = {n for n, _ in common_pb2.ObjectPrivilege.items() if n.startswith("PrivilegeGroup")}
    assert {"PrivilegeGroup" + g for g in BUILTIN_GROUPS} == names


@pytest.mark.parametrize("name", ["", "0abc", "n@me", "h h", "a" * 33])
def test_invalid_user_names_are_refused_by_name(name: str) -> None:
    with pytest.raises(ParameterError) as err:
        check_username(name)
    assert err.value.code == 1100


@pytest.mark.parametrize("name", ["", "1role", "ro le", "r-1"])
def test_invalid_role_names_are_refused(name: str) -> None:
    with pytest.raises(ParameterError):
        check_role_name(name)


@pytest.mark.parametrize("password", ["", "12345", "x" * 257])
def test_passwords_outside_6_to_256_are_refused_without_echo(password: str) -> None:
    with pytest.raises(ParameterError) as err:
        check_password(password)
    assert "invalid password length" in str(err.value)
    if password:
        assert password not in str(err.value)


def test_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("secret123"), hash_password("secret123")
    assert first != second and "secret123" not in first
    assert verify_password(first, "secret123") and not verify_password(first, "secret124")


def test_bootstrap_creates_root_in_admin_with_public_defaults() -> None:
    state = _state()
    assert state.auth_enabled and state.roles_of("root") == ("admin",)
    assert state.allows("anyone", "Global", "DescribeCollection", "*", "db1")
    assert state.allows("anyone", "Collection", "IndexDetail", "c", "default")
    assert not state.allows("anyone", "Collection", "Insert", "c", "default")


def test_grants_scope_by_database_collection_and_group() -> None:
    state = rbac.create_user(_state(), "alice", "secret123")
    state = rbac.create_role(state, "r")
    state = rbac.add_user_to_role(state, "alice", "r")
    state = rbac.grant(state, rbac.v1_grant(state, "r", "Collection", "c1", "Load", "db1"))
    assert state.allows("alice", "Collection", "Load", "c1", "db1")
    assert not state.allows("alice", "Collection", "Load", "c1", "default")
    assert not state.allows("alice", "Collection", "Load", "c2", "db1")
    state = rbac.grant(state, rbac.v2_grant(state, "r", "CollectionReadWrite", "*", "db2"))
    assert state.allows("alice", "Collection", "Insert", "any", "db2")
    assert not state.allows("alice", "Global", "CreateCollection", "*", "db2")
    state = rbac.grant(state, rbac.v2_grant(state, "r", "ClusterAdmin", "*", "*"))
    assert state.allows("alice", "Global", "CreateDatabase", "*", "*")


def test_user_defined_group_grants_its_privileges() -> None:
    state = rbac.create_role(_state(), "r")
    state = rbac.create_group(state, "writers")
    state = rbac.alter_group(state, "writers", ["Insert", "Delete"], add=True)
    state = rbac.grant(state, rbac.v2_grant(state, "r", "writers", "c1", "default"))
    state = rbac.add_user_to_role(rbac.create_user(state, "bob", "secret123"), "bob", "r")
    assert state.allows("bob", "Collection", "Delete", "c1", "default")
    assert not state.allows("bob", "Collection", "Query", "c1", "default")
    with pytest.raises(SecurityError, match="used by role"):
        rbac.drop_group(state, "writers")


def test_refusals_change_nothing_and_say_what_is_wrong() -> None:
    state = rbac.create_role(_state(), "r")
    state = rbac.grant(
        state, rbac.v1_grant(state, "r", "Global", "*", "CreateCollection", "default")
    )
    with pytest.raises(PermissionDenied, match="root user cannot be deleted"):
        rbac.delete_user(state, "root")
    with pytest.raises(PermissionDenied, match=r"the role\[admin\] is a default role"):
        rbac.drop_role(state, "admin")
    with pytest.raises(SecurityError, match="has privileges"):
        rbac.drop_role(state, "r")
    with pytest.raises(SecurityError, match="not found the role"):
        rbac.grant(state, rbac.v1_grant(state, "ghost", "Global", "*", "All", "default"))
    with pytest.raises(SecurityError, match=r"not found the privilege name\[Fly\]"):
        rbac.v1_grant(state, "r", "Collection", "c", "Fly", "default")
    with pytest.raises(SecurityError, match="object entity"):
        rbac.v1_grant(state, "r", "Planet", "c", "Load", "default")
    with pytest.raises(ParameterError, match="user already exists: root"):
        rbac.create_user(state, "root", "secret123")
    with pytest.raises(AuthenticationError, match="old password not correct for root"):
        rbac.update_password(state, "root", "wrong!", "secret123", check_old=True)
    assert rbac.drop_role(state, "r", force=True).roles == ("admin", "public")


def test_backup_and_restore_round_trip() -> None:
    state = rbac.create_user(_state(), "alice", "secret123")
    state = rbac.create_role(state, "r")
    state = rbac.add_user_to_role(state, "alice", "r")
    state = rbac.grant(state, rbac.v1_grant(state, "r", "Collection", "c", "Query", "default"))
    restored = rbac.restore(_state(), rbac.backup(state))
    assert restored.allows("alice", "Collection", "Query", "c", "default")
    assert verify_password(restored.users["alice"], "secret123")
    with pytest.raises(SecurityError, match="already exists"):
        rbac.restore(restored, rbac.backup(state))


def test_token_without_colon_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="user:password"):
        split_token("rootMilvus")


def test_verified_tokens_are_cached_until_the_state_changes() -> None:
    state = _state()
    auth = Authenticator()
    assert auth.authenticate(state, "root:Milvus") == "root"
    changed = rbac.update_password(state, "root", "Milvus", "Better123", check_old=True)
    with pytest.raises(AuthenticationError):
        auth.authenticate(changed, "root:Milvus")
    assert auth.authenticate(changed, "root:Better123") == "root"


def test_failed_logins_lock_the_user_out_for_a_window() -> None:
    now = [1000.0]
    auth = Authenticator(clock=lambda: now[0])
    state = _state()
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            auth.authenticate(state, "root:wrong-password")
    with pytest.raises(AuthenticationError, match="too many failed attempts"):
        auth.authenticate(state, "root:Milvus")
    now[0] += WINDOW_S + 1
    assert auth.authenticate(state, "root:Milvus") == "root"


def test_granting_load_grants_following_the_load_as_milvus_does() -> None:
    state = rbac.create_role(_state(), "r")
    state = rbac.grant(state, rbac.v1_grant(state, "r", "Collection", "c", "Load", "default"))
    held = {g.privilege for g in state.grants if g.role == "r"}
    assert held == {"Load", "GetLoadState", "GetLoadingProgress"}
    state = rbac.revoke(state, rbac.v1_grant(state, "r", "Collection", "c", "Load", "default"))
    assert [g for g in state.grants if g.role == "r"] == []


def test_a_v1_global_grant_of_a_cluster_privilege_counts_in_any_database() -> None:
    state = rbac.create_role(_state(), "r")
    state = rbac.add_user_to_role(rbac.create_user(state, "u", "secret123"), "u", "r")
    state = rbac.grant(
        state, rbac.v1_grant(state, "r", "Global", "*", "CreateOwnership", "default")
    )
    assert state.allows("u", "Global", "CreateOwnership", "*", "*")
    assert not state.allows("u", "Global", "DropOwnership", "*", "*")


def test_a_v2_grant_without_database_means_every_database() -> None:
    state = rbac.create_role(_state(), "r")
    made = rbac.v2_grant(state, "r", "UpdateUser", "*", "")
    assert (made.db_name, made.object_name) == ("*", "*")
