"""What a load request may ask for: a field list and a replica count.

Milvus treats ``load_fields`` as a hint since its caching layer: the list is
checked (it must hold the primary key, a vector field, the partition key and the
clustering key; every name must be a field), and fields left out are not kept in
memory but still answered, read from storage when a request needs them. Elanus
does the same: a sealed segment reads a field outside the list from its file on
each use and keeps nothing (``SealedSegment.transient``). One process serves one
replica, so a load asking for more is refused as Milvus refuses a replica count
above its query nodes; 0, -1 or nothing mean one, as in Milvus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from elanus.errors import ElanusError, ParameterError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema

__all__ = ["LoadFields", "check_load_fields", "check_replica_number"]


@dataclass(frozen=True)
class LoadFields:
    """The fields a load asked for (empty: all) and whether it skipped the dynamic field."""

    names: tuple[str, ...] = ()
    skip_dynamic: bool = False

    def unloaded(self, schema: CollectionSchema) -> frozenset[str]:
        """Columns not held in memory under this list."""
        out: set[str] = set()
        if self.names:
            out.update(f.name for f in schema.fields if f.name not in self.names)
        if self.skip_dynamic and schema.enable_dynamic_field:
            out.add(DYNAMIC_FIELD_NAME)
        return frozenset(out)


def _go_list(names: Sequence[str]) -> str:
    return "[" + " ".join(names) + "]"


def check_load_fields(
    schema: CollectionSchema, names: Sequence[str] | None, skip_dynamic: bool = False
) -> LoadFields:
    """The checked field list of a load, refused with Milvus's wording."""
    wanted = [str(n) for n in names or ()]
    if not wanted:
        return LoadFields((), bool(skip_dynamic))
    fields = []
    for name in wanted:
        field = schema.get(name)
        if field is None:
            raise ParameterError(f"failed to get field schema by name: fieldName({name}) not found")
        fields.append(field)
    listed = _go_list(wanted)
    primary = schema.primary_field
    if primary.name not in wanted:
        raise ParameterError(
            f"load field list {listed} does not contain primary key field {primary.name}"
        )
    if not any(f.dtype.is_vector for f in fields):
        raise ParameterError(f"load field list {listed} does not contain vector field")
    for kind, key in (
        ("partition key", schema.partition_key_field),
        ("clustering key", schema.clustering_key_field),
    ):
        if key is not None and key.name not in wanted:
            raise ParameterError(
                f"load field list {listed} does not contain {kind} field {key.name}"
            )
    return LoadFields(tuple(dict.fromkeys(wanted)), bool(skip_dynamic))


def check_replica_number(replica_number: int | None) -> None:
    """One replica is all one process serves; 0, -1 or None ask for the default, one."""
    count = int(replica_number or 0)
    if count > 1:
        raise ElanusError(
            f"when load {count} replica count: service resource insufficient"
            f"[currentStreamingNode=1][expectedStreamingNode={count}]",
            code=65535,
        )
