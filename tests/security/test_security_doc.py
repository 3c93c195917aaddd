"""docs/security.md carries the privilege table generated from the code's table;
this keeps the two identical (run this file's ``render`` to regenerate)."""

from __future__ import annotations

from pathlib import Path

from elanus.security.privileges import REST_PRIVILEGES, RPC_PRIVILEGES
from elanus.server.service import supported_rpcs

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
BEGIN = "<!-- privilege table: generated from elanus/security/privileges.py -->"
END = "<!-- end of privilege table -->"


def render() -> str:
    lines = [
        "| gRPC RPC | REST endpoints | object type | privilege | object named by |",
        "|---|---|---|---|---|",
    ]
    rest: dict[str, list[str]] = {}
    for path, rpc in sorted(REST_PRIVILEGES.items()):
        rest.setdefault(rpc, []).append(f"`{path}`")
    for rpc in sorted(set(supported_rpcs()) | set(rest)):
        needs = RPC_PRIVILEGES[rpc]
        endpoints = ", ".join(rest.get(rpc, [])) or "-"
        if needs is None:
            lines.append(f"| {rpc} | {endpoints} | - | any user | - |")
        else:
            named = f"`{needs.field}`" if needs.field else "`*`"
            lines.append(
                f"| {rpc} | {endpoints} | {needs.object_type} | {needs.privilege} | {named} |"
            )
    return "\n".join([BEGIN, *lines, END])


def test_doc_table_matches_the_code() -> None:
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == render()


if __name__ == "__main__":
    print(render())
