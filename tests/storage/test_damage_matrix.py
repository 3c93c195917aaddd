"""Every cell of the damage matrix (docs/reliability.md): one kind of file truncated,
flipped or deleted in a real data directory gives the documented outcome."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from damage_matrix import DAMAGES, EXPECTED, KINDS, observe  # noqa: E402


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("kind", KINDS)
def test_damage_gives_the_documented_outcome(tmp_path: Path, kind: str, damage: str) -> None:
    assert observe(tmp_path, kind, damage) == EXPECTED[(kind, damage)]


def test_the_matrix_covers_every_kind_and_damage() -> None:
    assert set(EXPECTED) == {(k, d) for k in KINDS for d in DAMAGES}
