"""Elanus: a vector database that speaks Milvus."""
