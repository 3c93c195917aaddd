"""gRPC handlers for data: writes, reads, flush, load/release, segments, compaction."""

from __future__ import annotations

from functools import partial
from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.engine.api import EngineAPI, LoadState
from elanus.engine.requests import WriteResult
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema
from elanus.server.convert_data import columns_from_fields_data, field_num_rows, ids_to_proto
from elanus.server.convert_search import (
    hybrid_search_from_proto,
    query_from_proto,
    query_result_to_proto,
    search_from_proto,
    search_result_to_proto,
    set_iterator_info,
    template_values,
)
from elanus.server.iterators import iterator_page_request
from elanus.server.rpc import Call, RpcStats, rpc

__all__ = ["DataHandlers"]

_SEGMENT_STATES = {
    "Growing": common_pb2.Growing,
    "Sealed": common_pb2.Sealed,
    "Flushed": common_pb2.Flushed,
    "Flushing": common_pb2.Flushing,
    "Dropped": common_pb2.Dropped,
}
_SEGMENT_LEVELS = {"L0": common_pb2.L0, "L1": common_pb2.L1, "L2": common_pb2.L2}


def _mutation(result: WriteResult, kind: str) -> milvus_pb2.MutationResult:
    reply = milvus_pb2.MutationResult(timestamp=result.timestamp)
    if kind != "delete":
        # Milvus answers a delete with its count only (pymilvus then returns
        # {"delete_count": n}); the keys would be a list in the client's result.
        reply.IDs.CopyFrom(ids_to_proto(result.ids))
        reply.succ_index.extend(range(result.count))
    if kind == "insert":
        reply.insert_cnt = result.count
    elif kind == "upsert":
        reply.upsert_cnt = result.count
    else:
        reply.delete_cnt = result.count
    return reply


class DataHandlers:
    engine: EngineAPI
    stats: RpcStats

    def _schema(self, db: str, collection: str) -> CollectionSchema:
        return self.engine.describe_collection(db, collection).schema

    def _columns(self, request: Any) -> tuple[dict[str, Any], int]:
        num_rows = int(request.num_rows)
        if not num_rows and request.fields_data:
            num_rows = field_num_rows(request.fields_data[0])
        return columns_from_fields_data(request.fields_data, num_rows), num_rows

    # --- writes ------------------------------------------------------------------

    @rpc
    def Insert(self, request: milvus_pb2.InsertRequest, call: Call) -> Any:
        columns, num_rows = self._columns(request)
        result = self.engine.insert(
            call.db,
            request.collection_name,
            columns,
            num_rows,
            partition=request.partition_name or None,
        )
        return _mutation(result, "insert")

    @rpc
    def Upsert(self, request: milvus_pb2.UpsertRequest, call: Call) -> Any:
        columns, num_rows = self._columns(request)
        result = self.engine.upsert(
            call.db,
            request.collection_name,
            columns,
            num_rows,
            partition=request.partition_name or None,
            partial_update=bool(request.partial_update),
        )
        return _mutation(result, "upsert")

    @rpc
    def Delete(self, request: milvus_pb2.DeleteRequest, call: Call) -> Any:
        result = self.engine.delete(
            call.db,
            request.collection_name,
            filter=request.expr,
            filter_params=template_values(request.expr_template_values),
            partition=request.partition_name or None,
        )
        return _mutation(result, "delete")

    # --- reads -------------------------------------------------------------------

    @rpc
    def Search(self, request: milvus_pb2.SearchRequest, call: Call) -> Any:
        search = search_from_proto(request)
        page = iterator_page_request({kv.key: kv.value for kv in request.search_params})
        token, last_bound = "", None
        if page is None:
            result = self.engine.search(call.db, request.collection_name, search)
        else:
            token, found = self.engine.search_iterator_page(
                call.db,
                request.collection_name,
                search,
                batch_size=page.batch_size,
                token=page.token,
            )
            result, last_bound = found.results, found.last_bound
        reply = milvus_pb2.SearchResults(
            collection_name=request.collection_name, session_ts=result.session_timestamp
        )
        reply.results.CopyFrom(
            search_result_to_proto(
                result,
                search.limit,
                partial(self._schema, call.db, request.collection_name),
                search.group_by_field,
            )
        )
        if page is not None:
            set_iterator_info(reply.results, token, last_bound)
        return reply

    @rpc
    def HybridSearch(self, request: milvus_pb2.HybridSearchRequest, call: Call) -> Any:
        search = hybrid_search_from_proto(request)
        result = self.engine.hybrid_search(call.db, request.collection_name, search)
        reply = milvus_pb2.SearchResults(
            collection_name=request.collection_name, session_ts=result.session_timestamp
        )
        reply.results.CopyFrom(
            search_result_to_proto(
                result,
                search.limit,
                partial(self._schema, call.db, request.collection_name),
                search.group_by_field,
            )
        )
        return reply

    @rpc
    def Query(self, request: milvus_pb2.QueryRequest, call: Call) -> Any:
        query = query_from_proto(request)
        session_ts = 0
        if query.order_by_pk:  # a query iterator's page: read the iterator's snapshot
            result, session_ts = self.engine.query_iterator_page(
                call.db, request.collection_name, query
            )
        else:
            result = self.engine.query(call.db, request.collection_name, query)
        reply = query_result_to_proto(
            result, partial(self._schema, call.db, request.collection_name), request.collection_name
        )
        reply.session_ts = session_ts
        return reply

    # --- flush -------------------------------------------------------------------

    def _segment_ids(self, db: str, collection: str) -> list[int]:
        return [s.segment_id for s in self.engine.list_segments(db, collection)]

    @rpc
    def Flush(self, request: milvus_pb2.FlushRequest, call: Call) -> Any:
        reply = milvus_pb2.FlushResponse(db_name=call.db)
        for name in request.collection_names:
            flush_ts = self.engine.flush(call.db, name)
            ids = self._segment_ids(call.db, name)
            reply.coll_segIDs[name].data.extend(ids)
            reply.flush_coll_segIDs[name].data.extend(ids)
            reply.coll_seal_times[name] = flush_ts >> 18
            reply.coll_flush_ts[name] = flush_ts
        return reply

    @rpc
    def GetFlushState(self, request: milvus_pb2.GetFlushStateRequest, call: Call) -> Any:
        # Flush is synchronous: once Flush answered, its segments are durable.
        return milvus_pb2.GetFlushStateResponse(flushed=True)

    @rpc
    def FlushAll(self, request: milvus_pb2.FlushAllRequest, call: Call) -> Any:
        flush_ts = 0
        for db in [call.db] if request.db_name else self.engine.list_databases():
            for name in self.engine.list_collections(db):
                flush_ts = max(flush_ts, self.engine.flush(db, name))
        return milvus_pb2.FlushAllResponse(flush_all_ts=flush_ts or self.engine.current_timestamp())

    @rpc
    def GetFlushAllState(self, request: milvus_pb2.GetFlushAllStateRequest, call: Call) -> Any:
        return milvus_pb2.GetFlushAllStateResponse(flushed=True)

    # --- load / release ----------------------------------------------------------

    @rpc
    def LoadCollection(self, request: milvus_pb2.LoadCollectionRequest, call: Call) -> Any:
        self.engine.load_collection(
            call.db,
            request.collection_name,
            load_fields=list(request.load_fields),
            skip_load_dynamic_field=request.skip_load_dynamic_field,
            replica_number=request.replica_number,
        )

    @rpc
    def ReleaseCollection(self, request: milvus_pb2.ReleaseCollectionRequest, call: Call) -> Any:
        self.engine.release_collection(call.db, request.collection_name)

    @rpc
    def LoadPartitions(self, request: milvus_pb2.LoadPartitionsRequest, call: Call) -> Any:
        if not request.partition_names:
            raise ParameterError(
                f"failed to load partitions of collection {request.collection_name} "
                "due to no partition specified"
            )
        self.engine.load_partitions(
            call.db,
            request.collection_name,
            list(request.partition_names),
            load_fields=list(request.load_fields),
            skip_load_dynamic_field=request.skip_load_dynamic_field,
            replica_number=request.replica_number,
        )

    @rpc
    def ReleasePartitions(self, request: milvus_pb2.ReleasePartitionsRequest, call: Call) -> Any:
        self.engine.release_partitions(
            call.db, request.collection_name, list(request.partition_names)
        )

    def _load_state(self, db: str, collection: str, partitions: list[str]) -> str:
        if not partitions:
            return self.engine.get_load_state(db, collection)
        states = {self.engine.get_load_state(db, collection, p) for p in partitions}
        for state in (LoadState.NOT_EXIST, LoadState.NOT_LOAD, LoadState.LOADING):
            if state in states:
                return state
        return LoadState.LOADED

    @rpc
    def GetLoadState(self, request: milvus_pb2.GetLoadStateRequest, call: Call) -> Any:
        state = self._load_state(call.db, request.collection_name, list(request.partition_names))
        return milvus_pb2.GetLoadStateResponse(state=LoadState.WIRE[state])  # type: ignore[arg-type]

    @rpc
    def GetLoadingProgress(self, request: milvus_pb2.GetLoadingProgressRequest, call: Call) -> Any:
        state = self._load_state(call.db, request.collection_name, list(request.partition_names))
        progress = {LoadState.LOADED: 100, LoadState.LOADING: 50}.get(state, 0)
        return milvus_pb2.GetLoadingProgressResponse(progress=progress, refresh_progress=progress)

    # --- segments and compaction -------------------------------------------------

    @rpc
    def GetPersistentSegmentInfo(
        self, request: milvus_pb2.GetPersistentSegmentInfoRequest, call: Call
    ) -> Any:
        wanted = set(request.states)
        reply = milvus_pb2.GetPersistentSegmentInfoResponse()
        for seg in self.engine.list_segments(call.db, request.collectionName):
            state = _SEGMENT_STATES.get(seg.state, common_pb2.SegmentStateNone)
            if wanted and state not in wanted:
                continue
            reply.infos.add(
                segmentID=seg.segment_id,
                collectionID=seg.collection_id,
                partitionID=seg.partition_id,
                num_rows=seg.num_rows,
                state=state,
                level=_SEGMENT_LEVELS.get(seg.level, common_pb2.L1),
            )
        return reply

    @rpc
    def GetQuerySegmentInfo(
        self, request: milvus_pb2.GetQuerySegmentInfoRequest, call: Call
    ) -> Any:
        reply = milvus_pb2.GetQuerySegmentInfoResponse()
        for seg in self.engine.list_segments(call.db, request.collectionName):
            reply.infos.add(
                segmentID=seg.segment_id,
                collectionID=seg.collection_id,
                partitionID=seg.partition_id,
                num_rows=seg.num_rows,
                index_name=seg.index_name,
                state=_SEGMENT_STATES.get(seg.state, common_pb2.SegmentStateNone),
                level=_SEGMENT_LEVELS.get(seg.level, common_pb2.L1),
                nodeID=1,
                nodeIds=[1],
            )
        return reply

    @rpc
    def ManualCompaction(self, request: milvus_pb2.ManualCompactionRequest, call: Call) -> Any:
        name = request.collection_name
        if not name:
            from elanus.errors import ParameterError

            raise ParameterError("compaction needs a collection name")
        compaction_id = self.engine.compact(call.db, name)
        return milvus_pb2.ManualCompactionResponse(
            compactionID=compaction_id, compactionPlanCount=1
        )

    @rpc
    def GetCompactionState(self, request: milvus_pb2.GetCompactionStateRequest, call: Call) -> Any:
        state = self.engine.get_compaction_state(int(request.compactionID))
        completed = state == "Completed"
        return milvus_pb2.GetCompactionStateResponse(
            state=common_pb2.Completed if completed else common_pb2.Executing,
            executingPlanNo=0 if completed else 1,
            completedPlanNo=1 if completed else 0,
        )

    # --- analyzers ---------------------------------------------------------------

    @rpc
    def RunAnalyzer(self, request: milvus_pb2.RunAnalyzerRequest, call: Call) -> Any:
        texts = [raw.decode("utf-8") for raw in request.placeholder]
        results = self.engine.run_analyzer(
            texts,
            request.analyzer_params or None,
            with_detail=bool(request.with_detail),
            with_hash=bool(request.with_hash),
            db=call.db,
            collection=request.collection_name or None,
            field=request.field_name or None,
            analyzer_names=list(request.analyzer_names) or None,
        )
        reply = milvus_pb2.RunAnalyzerResponse()
        for result in results if isinstance(results, list) else [results]:
            out = reply.results.add()
            for token in result.tokens:
                if isinstance(token, str):
                    out.tokens.add(token=token)
                else:
                    out.tokens.add(**{k: v for k, v in token.items() if v is not None})
        return reply
