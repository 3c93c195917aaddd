"""Benchmarks: Elanus against raw FAISS and milvus-lite, side by side in one run."""
