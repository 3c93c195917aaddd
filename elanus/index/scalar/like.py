"""Milvus ``like`` patterns: ``%`` any run, ``_`` one character, ``\\`` escapes the next."""

from __future__ import annotations

__all__ = ["literal_runs", "prefix_of"]


def _tokens(pattern: str) -> list[tuple[str, bool]]:
    """(character, is_wildcard) pairs after resolving escapes."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append((pattern[i + 1], False))
            i += 2
            continue
        out.append((c, c in "%_"))
        i += 1
    return out


def prefix_of(pattern: str) -> tuple[str, bool] | None:
    """``(text, exact)`` when the pattern is a literal (exact) or a literal followed by
    one trailing ``%`` (prefix); None for anything else."""
    tokens = _tokens(pattern)
    if not any(w for _, w in tokens):
        return "".join(c for c, _ in tokens), True
    if tokens[-1] == ("%", True) and not any(w for _, w in tokens[:-1]):
        return "".join(c for c, _ in tokens[:-1]), False
    return None


def literal_runs(pattern: str) -> list[str]:
    """The literal stretches between wildcards: every match contains each of them."""
    runs: list[str] = []
    current: list[str] = []
    for c, wild in _tokens(pattern):
        if wild:
            if current:
                runs.append("".join(current))
            current = []
        else:
            current.append(c)
    if current:
        runs.append("".join(current))
    return runs
