"""insert / upsert / delete / get / query / search: pymilvus's data methods over the engine."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from elanus.client.convert import to_function_score, to_ranker
from elanus.client.order_by import order_by_text
from elanus.client.results import SearchResult, query_rows, search_hits
from elanus.engine.api import EngineAPI
from elanus.engine.query_aggregate_plan import parse_aggregate
from elanus.engine.requests import HybridSearchRequest, QueryRequest, SearchRequest
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionType
from elanus.schema.columns import normalize_column, rows_to_columns
from elanus.schema.types import dense_vector_numpy_dtype

__all__ = ["DataMethods"]

UNLIMITED = -1
# The filter template parameter a query iterator's page bound travels in.
_LAST_KEY = "elanus_iterator_last_key"


def _as_columns(schema: CollectionSchema, data: Any) -> tuple[dict[str, Any], int]:
    """Rows, a dict of columns, a pyarrow Table or a pandas DataFrame as raw columns."""
    module = type(data).__module__
    if module.startswith("pyarrow") and hasattr(data, "column_names"):
        return {name: data.column(name) for name in data.column_names}, data.num_rows
    if module.startswith("pandas") and hasattr(data, "columns"):
        return {str(name): data[name] for name in data.columns}, len(data)
    if isinstance(data, Mapping):
        if _is_column_dict(schema, data):
            return dict(data), _column_rows(data)
        data = [data]
    if not isinstance(data, list):
        raise TypeError(
            "wrong type of argument 'data',expected 'Dict' or list of 'Dict', "
            f"got '{type(data).__name__}'"
        )
    return rows_to_columns(schema, data)


def _column_rows(data: Mapping[str, Any]) -> int:
    """The row count every column of a column dict shares; else an error naming a field."""
    first: tuple[str, int] | None = None
    for name, values in data.items():
        try:
            n = len(values)
        except TypeError:
            raise ParameterError(
                f"field {name} is not a column: got {type(values).__name__}"
            ) from None
        if first is None:
            first = (name, n)
        elif n != first[1]:
            raise ParameterError(
                f"The data fields length is inconsistent: field {name} has {n} rows, "
                f"field {first[0]} has {first[1]}"
            )
    return first[1] if first is not None else 0


def _is_column_dict(schema: CollectionSchema, data: Mapping[str, Any]) -> bool:
    """Whether a dict holds columns (``{"id": [1, 2], ...}``) rather than one row.

    Decided by the fields whose one-row value is never a sequence (scalars that
    are not ARRAY or JSON), else by a vector field holding a 2-D value.
    """
    for name, value in data.items():
        field = schema.get(name)
        if field is None or field.dtype in (DataType.ARRAY, DataType.JSON):
            continue
        if field.dtype.is_vector:
            continue
        return _is_sequence(value)
    for name, value in data.items():
        field = schema.get(name)
        if field is not None and field.dtype.is_dense_vector:
            if isinstance(value, np.ndarray):
                return value.ndim == 2
            return isinstance(value, list) and bool(value) and _is_sequence(value[0])
    return False


def _is_sequence(value: Any) -> bool:
    if isinstance(value, (str, bytes, dict)):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim >= 1
    return isinstance(value, (list, tuple)) or type(value).__module__.startswith(
        ("pyarrow", "pandas")
    )


def _ready_matrix(field: FieldSchema, data: Any) -> bool:
    """Query vectors already in the field's in-memory form (a finite C-ordered matrix of
    its dtype and width): used as they are, with no conversion or copy."""
    return (
        isinstance(data, np.ndarray)
        and data.ndim == 2
        and field.dtype in (DataType.FLOAT_VECTOR, DataType.FLOAT16_VECTOR)
        and data.dtype == dense_vector_numpy_dtype(field.dtype)
        and data.shape[1] == (field.dim or 0)
        and data.flags.c_contiguous
        and bool(np.isfinite(data).all())
    )


def _query_dim(field: FieldSchema, data: Any) -> int | None:
    """The dim the query vectors themselves have (the field's when it cannot be told)."""
    first = data[0]
    if field.dtype == DataType.BINARY_VECTOR:
        return len(first) * 8 if isinstance(first, (bytes, bytearray)) else field.dim
    if field.dtype.is_dense_vector and isinstance(first, (list, tuple, np.ndarray)):
        return len(first)
    return field.dim


class DataMethods:
    _engine: EngineAPI
    _db: str

    def _schema(self, collection_name: str) -> CollectionSchema:
        # The engine's parsed schema as of now: no CollectionInfo per request, and DDL
        # (drop, rename, alter, add field) is seen by the next call.
        return self._engine.collection_schema(self._db, collection_name)

    # --- writes ------------------------------------------------------------------

    def insert(
        self,
        collection_name: str,
        data: Any,
        timeout: float | None = None,
        partition_name: str | None = "",
        **kwargs: Any,
    ) -> dict[str, Any]:
        schema = self._schema(collection_name)
        raw, num_rows = _as_columns(schema, data)
        if num_rows == 0:
            return {"insert_count": 0, "ids": []}
        # The engine casts and checks the columns: one place for every front door.
        result = self._engine.insert(
            self._db, collection_name, raw, num_rows, partition_name or None
        )
        return {"insert_count": result.count, "ids": list(result.ids)}

    def upsert(
        self,
        collection_name: str,
        data: Any,
        timeout: float | None = None,
        partition_name: str | None = "",
        **kwargs: Any,
    ) -> dict[str, Any]:
        schema = self._schema(collection_name)
        raw, num_rows = _as_columns(schema, data)
        if num_rows == 0:
            return {"upsert_count": 0, "ids": []}
        partial = bool(kwargs.get("partial_update", False))
        result = self._engine.upsert(
            self._db,
            collection_name,
            raw,
            num_rows,
            partition_name or None,
            partial_update=partial,
        )
        return {"upsert_count": result.count, "ids": list(result.ids)}

    def delete(
        self,
        collection_name: str,
        ids: list[Any] | str | int | None = None,
        timeout: float | None = None,
        filter: str | None = None,
        partition_name: str | None = None,
        **kwargs: Any,
    ) -> dict[str, int]:
        if isinstance(ids, (int, str)):
            ids = [ids]
        if ids is not None and filter:
            raise ParameterError(
                "Ambiguous filter parameter, only one deletion condition can be specified."
            )
        if ids is None and not filter:
            raise ParameterError("missing required argument: 'ids' or 'filter'")
        result = self._engine.delete(
            self._db,
            collection_name,
            ids=list(ids) if ids is not None else None,
            filter=filter or "",
            filter_params=kwargs.get("filter_params"),
            partition=partition_name or None,
        )
        return {"delete_count": result.count}

    # --- reads -------------------------------------------------------------------

    def get(
        self,
        collection_name: str,
        ids: list[Any] | str | int,
        output_fields: list[str] | None = None,
        timeout: float | None = None,
        partition_names: list[str] | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        if not isinstance(ids, list):
            ids = [ids]
        if not ids:
            return []
        return self._query(collection_name, "", ids, output_fields, partition_names, kwargs)

    def query(
        self,
        collection_name: str,
        filter: str = "",
        output_fields: list[str] | None = None,
        timeout: float | None = None,
        ids: list[Any] | str | int | None = None,
        partition_names: list[str] | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        if filter and not isinstance(filter, str):
            raise ParameterError(f"The type of expr must be string ,but {type(filter)!r} is given.")
        if filter and ids is not None:
            raise ParameterError(
                "Ambiguous parameter, either ids or filter should be specified, cannot support both."
            )
        if isinstance(ids, (int, str)):
            ids = [ids]
        group_by = kwargs.get("group_by_fields")
        if group_by is not None and not isinstance(group_by, list):
            raise ParameterError("group_by_fields must be a list")
        # An aggregation is bounded by its groups: the engine decides whether it needs a limit.
        aggregating = bool(group_by) or _has_aggregate(output_fields)
        if not filter and not ids and kwargs.get("limit") is None and not aggregating:
            raise ParameterError("empty expression should be used with limit")
        return self._query(
            collection_name, filter, ids or None, output_fields, partition_names, kwargs
        )

    def _query(
        self,
        collection_name: str,
        filter: str,
        ids: list[Any] | None,
        output_fields: list[str] | None,
        partition_names: list[str] | None,
        kwargs: dict[str, Any],
        order_by_pk: bool = False,
    ) -> list[dict[str, Any]]:
        schema = self._schema(collection_name)
        limit = kwargs.get("limit")
        group_by = kwargs.get("group_by_fields") or None
        order_by = order_by_text(kwargs.get("order_by_fields") or kwargs.get("order_by"))
        if order_by and order_by_pk:
            raise ParameterError("ORDER BY with iterator is not supported")
        if order_by and limit is None:
            raise ParameterError("ORDER BY requires explicit limit")
        if output_fields:
            fields = list(output_fields)
        else:
            # A grouped query with no output fields answers its group fields.
            fields = [] if group_by else ["*"]
        request = QueryRequest(
            filter=filter,
            ids=ids,
            output_fields=fields,
            partition_names=partition_names,
            limit=None if limit is None or limit == UNLIMITED else int(limit),
            offset=int(kwargs.get("offset", 0) or 0),
            filter_params=kwargs.get("filter_params"),
            consistency_level=kwargs.get("consistency_level"),
            guarantee_timestamp=int(kwargs.get("guarantee_timestamp", 0) or 0),
            order_by_pk=order_by_pk,
            order_by=order_by,
            group_by_fields=list(group_by) if group_by else None,
            timezone=str(kwargs.get("timezone") or ""),
        )
        result = self._engine.query(self._db, collection_name, request)
        return query_rows(schema, result)

    def _vector_field(self, schema: CollectionSchema, anns_field: str | None) -> FieldSchema:
        if anns_field:
            field = schema.field(anns_field)
            if not field.dtype.is_vector:
                raise ParameterError(
                    f"failed to create query plan: field ({anns_field}) to search is not of vector data type"
                )
            return field
        vectors = schema.vector_fields
        if len(vectors) != 1:
            raise ParameterError(
                "multiple anns_fields exist, please specify a anns_field in search_params"
            )
        return vectors[0]

    def _queries(self, schema: CollectionSchema, field: FieldSchema, data: Any) -> Any:
        if _ready_matrix(field, data) and data.shape[0]:
            return data  # the usual embedded input, as the checks below would find it
        text_input = any(
            field.name in fn.output_field_names
            and fn.function_type in (FunctionType.BM25, FunctionType.TEXTEMBEDDING)
            for fn in schema.functions
        )
        if (
            isinstance(data, str)
            or (isinstance(data, np.ndarray) and data.ndim == 1 and field.dtype.is_dense_vector)
            or (
                isinstance(data, list)
                and data
                and isinstance(data[0], (int, float, np.number))
                and field.dtype.is_dense_vector
            )
            or isinstance(data, (bytes, dict))
        ):
            data = [data]
        if text_input and isinstance(data, list) and data and all(isinstance(d, str) for d in data):
            return list(data)
        try:
            count = len(data)
        except TypeError:
            raise ParameterError(
                f"search data must be a list of vectors, got {type(data).__name__}"
            ) from None
        if count == 0:
            raise ParameterError("search data is empty")
        if _ready_matrix(field, data):
            return data
        # Converted at the vectors' own width so that a dim mismatch is reported by the
        # search, worded as Milvus words it, not as bad insert data.
        params = {**field.params, "dim": _query_dim(field, data)}
        plain = FieldSchema(field.name, field.dtype, params=params)
        return normalize_column(plain, data, count if not hasattr(data, "shape") else data.shape[0])

    def _search_request(
        self,
        schema: CollectionSchema,
        data: Any,
        anns_field: str | None,
        search_params: dict[str, Any] | None,
        limit: int,
        filter: str,
        output_fields: list[str] | None,
        partition_names: list[str] | None,
        kwargs: Mapping[str, Any],
    ) -> SearchRequest:
        field = self._vector_field(schema, anns_field)
        params = dict(search_params or {})
        offset = int(kwargs.get("offset", params.pop("offset", 0)) or 0)
        round_decimal = int(kwargs.get("round_decimal", -1))
        return SearchRequest(
            queries=self._queries(schema, field, data),
            anns_field=field.name,
            limit=int(limit),
            offset=offset,
            filter=filter or "",
            filter_params=kwargs.get("filter_params") or kwargs.get("expr_params"),
            output_fields=list(output_fields) if output_fields else None,
            partition_names=partition_names,
            search_params=params,
            round_decimal=round_decimal,
            group_by_field=kwargs.get("group_by_field") or params.get("group_by_field"),
            group_size=int(kwargs.get("group_size", 1) or 1),
            strict_group_size=bool(kwargs.get("strict_group_size", False)),
            consistency_level=kwargs.get("consistency_level"),
            guarantee_timestamp=int(kwargs.get("guarantee_timestamp", 0) or 0),
            order_by=order_by_text(kwargs.get("order_by_fields")),
            timezone=str(kwargs.get("timezone") or params.pop("timezone", "") or ""),
        )

    def search(
        self,
        collection_name: str,
        data: Any = None,
        filter: str = "",
        limit: int = 10,
        output_fields: list[str] | None = None,
        search_params: dict[str, Any] | None = None,
        timeout: float | None = None,
        partition_names: list[str] | None = None,
        anns_field: str | None = None,
        ranker: Any = None,
        **kwargs: Any,
    ) -> SearchResult:
        schema = self._schema(collection_name)
        request = self._search_request(
            schema,
            data,
            anns_field,
            search_params,
            limit,
            filter,
            output_fields,
            partition_names,
            kwargs,
        )
        if ranker is not None:
            request = replace(request, ranker=to_function_score(ranker))
        results = self._engine.search(self._db, collection_name, request)
        return search_hits(schema, results, request.round_decimal)

    def hybrid_search(
        self,
        collection_name: str,
        reqs: list[Any],
        ranker: Any,
        limit: int = 10,
        output_fields: list[str] | None = None,
        timeout: float | None = None,
        partition_names: list[str] | None = None,
        **kwargs: Any,
    ) -> SearchResult:
        schema = self._schema(collection_name)
        legs = [
            self._search_request(
                schema,
                req.data,
                req.anns_field,
                req.param,
                req.limit,
                req.expr or "",
                None,
                partition_names,
                {"filter_params": getattr(req, "expr_params", None)},
            )
            for req in reqs
        ]
        round_decimal = int(kwargs.get("round_decimal", -1))
        request = HybridSearchRequest(
            requests=legs,
            ranker=to_ranker(ranker),
            limit=int(limit),
            offset=int(kwargs.get("offset", 0) or 0),
            output_fields=list(output_fields) if output_fields else None,
            partition_names=partition_names,
            round_decimal=round_decimal,
            group_by_field=kwargs.get("group_by_field"),
            group_size=int(kwargs.get("group_size", 1) or 1),
            strict_group_size=bool(kwargs.get("strict_group_size", False)),
            consistency_level=kwargs.get("consistency_level"),
            guarantee_timestamp=int(kwargs.get("guarantee_timestamp", 0) or 0),
        )
        results = self._engine.hybrid_search(self._db, collection_name, request)
        return search_hits(schema, results, round_decimal)

    # --- iterators -----------------------------------------------------------------

    def query_iterator(
        self,
        collection_name: str,
        batch_size: int = 1000,
        limit: int = UNLIMITED,
        filter: str = "",
        output_fields: list[str] | None = None,
        partition_names: list[str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> QueryIterator:
        if batch_size <= 0:
            raise ParameterError("batch size cannot be less than zero")
        return QueryIterator(
            self, collection_name, batch_size, limit, filter, output_fields, partition_names, kwargs
        )

    def search_iterator(
        self,
        collection_name: str,
        data: Any,
        batch_size: int = 1000,
        filter: str | None = None,
        limit: int = UNLIMITED,
        output_fields: list[str] | None = None,
        search_params: dict[str, Any] | None = None,
        timeout: float | None = None,
        partition_names: list[str] | None = None,
        anns_field: str | None = None,
        round_decimal: int = -1,
        **kwargs: Any,
    ) -> SearchIterator:
        if batch_size <= 0:
            raise ParameterError("batch size cannot be less than zero")
        schema = self._schema(collection_name)
        request = self._search_request(
            schema,
            data,
            anns_field,
            search_params,
            batch_size,
            filter or "",
            output_fields,
            partition_names,
            {**kwargs, "round_decimal": round_decimal},
        )
        queries = request.queries
        if getattr(queries, "shape", (len(queries),))[0] != 1:
            raise ParameterError("search iterator only supports one query vector")
        return SearchIterator(self, collection_name, request, batch_size, limit)


def _has_aggregate(output_fields: list[str] | None) -> bool:
    """Whether the output fields name an aggregate (``count(*)``, ``sum(x)``, ...)."""
    return any(parse_aggregate(str(f)) is not None for f in output_fields or [])


class QueryIterator:
    """Pages through a query in primary-key order, ``batch_size`` rows at a time.

    As pymilvus's iterator against a server: each page asks for keys after the last
    one returned (``pk > last``, not an offset, so rows deleted meanwhile shift
    nothing), from the snapshot the engine pinned at the first page
    (``EngineAPI.query_iterator_page``), so rows written meanwhile never show up.
    """

    def __init__(
        self,
        client: DataMethods,
        collection_name: str,
        batch_size: int,
        limit: int,
        filter: str,
        output_fields: list[str] | None,
        partition_names: list[str] | None,
        kwargs: dict[str, Any],
    ) -> None:
        self._client = client
        self._name = collection_name
        self._schema = client._schema(collection_name)
        self._batch = batch_size
        self._left = None if limit is None or limit < 0 else int(limit)
        self._filter = filter
        self._output = list(output_fields) if output_fields else ["*"]
        self._partitions = partition_names
        self._params = dict(kwargs.get("filter_params") or kwargs.get("expr_params") or {})
        self._offset = int(kwargs.get("offset", 0) or 0)
        self._level = kwargs.get("consistency_level")
        self._ts = int(kwargs.get("guarantee_timestamp", 0) or 0)
        self._last: Any = None

    def _page_filter(self) -> tuple[str, dict[str, Any]]:
        if self._last is None:
            return self._filter, self._params
        pk = self._schema.primary_field.name
        bound = f"{pk} > {{{_LAST_KEY}}}"
        text = f"{bound} and ({self._filter})" if self._filter.strip() else bound
        return text, {**self._params, _LAST_KEY: self._last}

    def next(self) -> list[dict[str, Any]]:
        size = self._batch if self._left is None else min(self._batch, self._left)
        if size <= 0:
            return []
        text, params = self._page_filter()
        request = QueryRequest(
            filter=text,
            output_fields=self._output,
            partition_names=self._partitions,
            limit=size,
            offset=self._offset,
            filter_params=params or None,
            consistency_level=self._level,
            guarantee_timestamp=self._ts,
            order_by_pk=True,
        )
        engine = self._client._engine
        result, self._ts = engine.query_iterator_page(self._client._db, self._name, request)
        self._offset = 0
        rows = query_rows(self._schema, result)
        if rows:
            self._last = rows[-1][self._schema.primary_field.name]
        if self._left is not None:
            self._left -= len(rows)
        return rows

    def close(self) -> None:
        self._left = 0

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        while True:
            page = self.next()
            if not page:
                return
            yield page


class SearchIterator:
    """Pages through one vector's nearest neighbours, ``batch_size`` hits at a time,
    from the snapshot the engine pinned at the first page
    (``EngineAPI.search_iterator_page``): as pymilvus's iterator against a server."""

    def __init__(
        self,
        client: DataMethods,
        collection_name: str,
        request: SearchRequest,
        batch_size: int,
        limit: int,
    ) -> None:
        self._client = client
        self._name = collection_name
        self._schema = client._schema(collection_name)
        self._request = request
        self._batch = batch_size
        self._left = None if limit is None or limit < 0 else int(limit)
        self._token: str | None = None

    def next(self) -> Any:
        size = self._batch if self._left is None else min(self._batch, self._left)
        if size <= 0:
            return []
        self._token, page = self._client._engine.search_iterator_page(
            self._client._db, self._name, self._request, batch_size=size, token=self._token
        )
        hits = search_hits(self._schema, page.results, self._request.round_decimal)[0]
        if self._left is not None:
            self._left -= len(hits)
        return hits

    def close(self) -> None:
        self._left = 0

    def __iter__(self) -> Iterator[Any]:
        while True:
            page = self.next()
            if not page:
                return
            yield page
