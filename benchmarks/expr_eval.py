"""Time of one filter over 1M rows: `a > 5 and b in [...] and meta["k"] == "v"`.

Run: ``.venv/bin/python benchmarks/expr_eval.py [--rows N] [--repeat R]``. Prints the
compile time, the first evaluation (which parses the JSON column once) and the best
of the repeated evaluations (the steady state on an immutable sealed segment).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from elanus.expr import ArrowColumnSource, clear_cache, compile_filter
from elanus.schema import CollectionSchema, DataType, FieldSchema

EXPRESSION = 'a > 5 and b in [1, 3, 5, 7, 11, 13, 17, 19, 23, 29] and meta["k"] == "v"'


def build(rows: int, seed: int = 0) -> ArrowColumnSource:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 10, rows, dtype=np.int64)
    b = rng.integers(0, 32, rows, dtype=np.int32)
    keys = np.array(['{"k": "v", "n": 1}', '{"k": "w", "n": 2}', '{"n": 3}', '{"k": 5}'])
    meta = keys[rng.integers(0, len(keys), rows)]
    return ArrowColumnSource(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "a": pa.array(a),
            "b": pa.array(b),
            "meta": pa.array(meta.tolist(), type=pa.string()),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("a", DataType.INT64),
            FieldSchema("b", DataType.INT32),
            FieldSchema("meta", DataType.JSON),
        )
    )
    source = build(args.rows)
    clear_cache()
    t0 = time.perf_counter()
    plan = compile_filter(EXPRESSION, schema)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mask = plan.evaluate(source)
    first_s = time.perf_counter() - t0
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        again = plan.evaluate(source)
        times.append(time.perf_counter() - t0)
    assert np.array_equal(mask, again)
    t0 = time.perf_counter()
    numeric = compile_filter("a > 5 and b in [1, 3, 5, 7, 11, 13, 17, 19, 23, 29]", schema)
    numeric.evaluate(source)
    numeric_s = time.perf_counter() - t0
    print(f"expression: {EXPRESSION}")
    print(f"rows: {args.rows:,}  matches: {int(mask.sum()):,}")
    t0 = time.perf_counter()
    compile_filter(EXPRESSION.replace("a > 5", "a > 6"), schema)
    fresh_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    compile_filter(EXPRESSION, schema)
    cached_s = time.perf_counter() - t0
    print(f"compile, first in the process (builds the grammar): {compile_s * 1e3:.2f} ms")
    print(f"compile, a new expression: {fresh_s * 1e3:.2f} ms; cached: {cached_s * 1e3:.3f} ms")
    print(f"first evaluation (parses the JSON column once): {first_s * 1e3:.1f} ms")
    print(f"steady-state evaluation (best of {args.repeat}): {min(times) * 1e3:.1f} ms")
    print(f"without the JSON leaf: {numeric_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
