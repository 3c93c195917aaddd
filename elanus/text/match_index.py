"""The inverted index behind ``text_match`` and ``phrase_match``.

Built once per segment from an analysed string column: for every term, the rows
holding it and the token positions there, as flat sorted arrays (no Python object
per posting). Questions are answered as boolean masks over the rows.

Semantics follow Milvus (tantivy):

* ``match(query)`` -- rows holding any of the query's terms (or at least
  ``min_should_match`` distinct ones);
* ``phrase_match(query, slop)`` -- rows where each query term can be given one
  of its positions so that the positions, each less its term's offset in the
  query (offsets counted from the query's own token positions, so stop-word gaps
  in the query are kept), lie within ``slop`` of one another. ``slop=0`` is an
  exact phrase. With slop the order is not enforced: a swapped pair of adjacent
  terms costs 2 (``"a b"`` matches ``"b a"`` from slop 2), and a term repeated in
  the query may use the same document position twice. This is the rule of the
  Tantivy build Milvus ships (a window of width ``slop`` over the shifted
  positions); for two-term phrases it agrees with upstream Tantivy's scored
  phrase query, which Milvus's tests use as their reference.

Null rows never match.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.errors import ParameterError
from elanus.text.analyzer import Analyzer, create_analyzer

__all__ = ["MatchIndex"]

_FORMAT_VERSION = 1


class MatchIndex:
    """Term -> (row, position) postings over one text column; immutable once built."""

    def __init__(
        self,
        analyzer: Analyzer,
        num_rows: int,
        vocabulary: np.ndarray,
        term_offsets: np.ndarray,
        rows: np.ndarray,
        positions: np.ndarray,
    ) -> None:
        self.analyzer = analyzer
        self.num_rows = num_rows
        self._vocabulary = vocabulary  # sorted unique terms (numpy str array)
        self._term_offsets = term_offsets  # postings of term i: [offsets[i], offsets[i+1])
        self._rows = rows  # int64, sorted by (term, row, position)
        self._positions = positions  # int64

    @staticmethod
    def build(column: pa.Array | pa.ChunkedArray, analyzer: Analyzer) -> MatchIndex:
        """Index a string column (nulls allowed) with ``analyzer``."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise ParameterError(f"text match needs a string column, got {column.type}")
        texts = column.to_pylist()
        terms: list[str] = []
        rows: list[int] = []
        positions: list[int] = []
        for row, text in enumerate(texts):
            if not text:
                continue
            for token in analyzer.tokenize(text):
                terms.append(token.text)
                rows.append(row)
                positions.append(token.position)
        if not terms:
            empty = np.zeros(0, dtype=np.int64)
            return MatchIndex(
                analyzer, len(texts), np.array([], dtype=str), np.zeros(1, np.int64), empty, empty
            )
        vocabulary, term_ids = np.unique(np.array(terms, dtype=str), return_inverse=True)
        row_arr = np.asarray(rows, dtype=np.int64)
        pos_arr = np.asarray(positions, dtype=np.int64)
        order = np.lexsort((pos_arr, row_arr, term_ids))
        counts = np.bincount(term_ids, minlength=len(vocabulary))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return MatchIndex(analyzer, len(texts), vocabulary, offsets, row_arr[order], pos_arr[order])

    @property
    def vocabulary_size(self) -> int:
        return len(self._vocabulary)

    def _term_slot(self, term: str) -> int:
        i = int(np.searchsorted(self._vocabulary, term))
        if i < len(self._vocabulary) and self._vocabulary[i] == term:
            return i
        return -1

    def _postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        slot = self._term_slot(term)
        if slot < 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        lo, hi = self._term_offsets[slot], self._term_offsets[slot + 1]
        return self._rows[lo:hi], self._positions[lo:hi]

    def match(self, query: str, *, min_should_match: int = 1) -> np.ndarray:
        """Rows holding at least ``min_should_match`` distinct terms of ``query``."""
        if min_should_match < 1:
            raise ParameterError(f"minimum_should_match must be >= 1, got {min_should_match}")
        terms = sorted({t.text for t in self.analyzer.tokenize(query)})
        hits = np.zeros(self.num_rows, dtype=np.int64)
        for term in terms:
            rows, _ = self._postings(term)
            hits[np.unique(rows)] += 1
        return hits >= min_should_match

    def phrase_match(self, query: str, slop: int = 0) -> np.ndarray:
        """Rows holding the query's terms as a phrase, within ``slop`` (see module doc)."""
        if isinstance(slop, bool) or not isinstance(slop, int) or slop < 0:
            raise ParameterError(f"slop must be a non-negative integer, got {slop!r}")
        tokens = self.analyzer.tokenize(query)
        mask = np.zeros(self.num_rows, dtype=bool)
        if not tokens:
            return mask
        base = tokens[0].position
        # Keys pack (row, position - phrase offset) into one sortable int64; the
        # stride leaves room for any offset shift plus the slop, so a window
        # [key, key + slop] never reaches into the next row.
        stride = np.int64(1 << 32)
        shift = np.int64(1 << 30)
        keys: list[np.ndarray] = []
        for token in tokens:
            rows, pos = self._postings(token.text)
            if len(rows) == 0:
                return mask
            keys.append(np.sort(rows * stride + (pos - (token.position - base) + shift)))
        # A match is one position per term whose shifted positions span at most
        # ``slop``. The smallest of them is itself some term's key, so it is
        # enough to try every key as the window's start and ask each term for a
        # key inside [start, start + slop].
        starts = np.unique(np.concatenate(keys))
        ok = np.ones(len(starts), dtype=bool)
        for term_keys in keys:
            at = np.searchsorted(term_keys, starts, side="left")
            inside = at < len(term_keys)
            ok &= inside
            ok[inside] &= term_keys[at[inside]] <= starts[inside] + slop
            starts, ok = starts[ok], ok[ok]
            if len(starts) == 0:
                return mask
        mask[np.unique(starts // stride)] = True
        return mask

    def to_bytes(self) -> bytes:
        """Serialise with the analyzer params, so :meth:`from_bytes` rebuilds it all."""
        encoded = [t.encode("utf-8") for t in self._vocabulary.tolist()]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        meta = {"version": _FORMAT_VERSION, "analyzer_params": self.analyzer.params}
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            num_rows=np.array([self.num_rows], dtype=np.int64),
            vocab_blob=np.frombuffer(b"".join(encoded), dtype=np.uint8),
            vocab_lengths=lengths,
            term_offsets=self._term_offsets,
            rows=self._rows,
            positions=self._positions,
        )
        return buf.getvalue()

    @staticmethod
    def from_bytes(data: bytes) -> MatchIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta: dict[str, Any] = json.loads(npz["meta"].tobytes().decode("utf-8"))
            if meta.get("version") != _FORMAT_VERSION:
                raise ParameterError(f"unknown text match index version {meta.get('version')}")
            blob = npz["vocab_blob"].tobytes()
            ends = np.cumsum(npz["vocab_lengths"])
            starts = ends - npz["vocab_lengths"]
            words: Sequence[str] = [
                blob[s:e].decode("utf-8")
                for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
            ]
            return MatchIndex(
                create_analyzer(meta["analyzer_params"]),
                int(npz["num_rows"][0]),
                np.array(words, dtype=str),
                npz["term_offsets"].astype(np.int64),
                npz["rows"].astype(np.int64),
                npz["positions"].astype(np.int64),
            )

    def save(self, path: str) -> None:
        with open(path, "wb") as fh:
            fh.write(self.to_bytes())

    @staticmethod
    def load(path: str) -> MatchIndex:
        with open(path, "rb") as fh:
            return MatchIndex.from_bytes(fh.read())
