"""``elanus check``: verify a data directory without changing it.

Every checksum the manifests record (segment files, delete records, index
files), every cross-reference (catalog -> collection directory -> manifest ->
segments; the write-ahead log against the manifest's checkpoint) and every
problem an earlier open recorded. Each finding says what is wrong, where, and
what ``elanus repair`` would do about it. The directory lock is taken for the
duration, so a live server's directory is refused, not read half-written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from elanus.engine.persistence import DAMAGE_KEY, index_checksums
from elanus.errors import StorageError
from elanus.storage import (
    CatalogStore,
    CollectionRecord,
    DataDirLock,
    DataLayout,
    FileSystem,
    LocalFileSystem,
    Manifest,
    ManifestStore,
    RecoveryReport,
    SegmentEntry,
    read_segment,
    read_segment_deletes,
)
from elanus.storage.checksum import verify_file, verify_tree
from elanus.storage.fs import join
from elanus.storage.lost_found import list_lost_found
from elanus.storage.segment_files import DELETES_FILE, check_segment
from elanus.storage.wal import inspect_wal

__all__ = ["DAMAGE", "NOTE", "UNVERIFIED", "CheckReport", "Finding", "check_data_dir"]

DAMAGE = "damage"
UNVERIFIED = "unverified"
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One thing ``check`` found: ``kind`` is DAMAGE, UNVERIFIED or NOTE."""

    kind: str
    path: str
    detail: str
    remedy: str = ""

    def line(self) -> str:
        text = f"{self.kind.upper():10} {self.path}: {self.detail}"
        return f"{text}\n{'':10} -> {self.remedy}" if self.remedy else text


@dataclass(frozen=True)
class CheckReport:
    root: str
    findings: tuple[Finding, ...]
    collections: int = 0
    segments: int = 0

    @property
    def damaged(self) -> bool:
        return any(f.kind == DAMAGE for f in self.findings)

    def lines(self) -> list[str]:
        out = [f.line() for f in self.findings]
        damage = sum(f.kind == DAMAGE for f in self.findings)
        unverified = sum(f.kind == UNVERIFIED for f in self.findings)
        out.append(
            f"{self.root}: {self.collections} collection(s), {self.segments} segment(s) checked; "
            + (f"{damage} damaged" if damage else "no damage found")
            + (f", {unverified} not verifiable (no checksums recorded)" if unverified else "")
        )
        return out


def check_data_dir(root: str) -> CheckReport:
    """Check the data directory at ``root``; raises ``DataDirLockedError`` when a live
    process holds it and ``StorageError`` when it is not a data directory."""
    layout = DataLayout(os.path.abspath(root))
    if not os.path.isdir(layout.root):
        raise StorageError(f"{layout.root} is not a directory")
    with DataDirLock(layout.lock_dir):
        return _Checker(LocalFileSystem(), layout).run()


class _Checker:
    def __init__(self, fs: FileSystem, layout: DataLayout) -> None:
        self.fs = fs
        self.layout = layout
        self.findings: list[Finding] = []
        self.collections = 0
        self.segments = 0

    def add(self, kind: str, path: str, detail: str, remedy: str = "") -> None:
        self.findings.append(Finding(kind, path, detail, remedy))

    def run(self) -> CheckReport:
        records = self._catalog()
        if records is not None:
            for name in self.fs.list_dir(self.layout.collections_dir):
                if not name.isdigit() or int(name) not in records:
                    self.add(
                        NOTE,
                        join(self.layout.collections_dir, name),
                        "a collection directory the catalog does not name "
                        "(a dropped collection, or data from elsewhere)",
                        "repair moves it to lost+found",
                    )
            for record in records.values():
                self.collections += 1
                self._collection(record)
        cases = list_lost_found(self.fs, self.layout)
        if cases:
            self.add(NOTE, self.layout.lost_found_dir, f"holds {len(cases)} item(s) set aside")
        return CheckReport(self.layout.root, tuple(self.findings), self.collections, self.segments)

    def _catalog(self) -> dict[int, CollectionRecord] | None:
        """The catalog's collections; from its backup copy when the catalog itself
        is missing or damaged and the copy is whole (repair restores that copy)."""
        path = self.layout.catalog_path
        store = CatalogStore(self.fs, path)
        held = self.fs.list_dir(self.layout.collections_dir)
        if not self.fs.exists(path) and not held:
            self.add(NOTE, path, "no catalog yet: an empty data directory")
            return None
        try:
            if self.fs.exists(path):
                return dict(store.load().collections)
            problem = f"missing, while {len(held)} collection directories exist"
        except StorageError as exc:
            problem = str(exc)
        backup = store.load_backup()
        if backup is None:
            self.add(
                DAMAGE,
                path,
                problem,
                "restore it from a backup; repair moves it and the collections to lost+found",
            )
            return None
        self.add(
            DAMAGE,
            path,
            problem,
            f"repair restores it from {store.backup_path} (version {backup.version}), "
            "checked below in its place",
        )
        return dict(backup.collections)

    def _collection(self, record: CollectionRecord) -> None:
        cid = record.collection_id
        directory = self.layout.collection_dir(cid)
        label = f"collection {record.database}.{record.name}"
        if not self.fs.exists(directory):
            self.add(DAMAGE, directory, f"{label}: directory missing, its data is lost")
            return
        store = ManifestStore(self.fs, self.layout.manifest_dir(cid))
        try:
            loaded = store.load()
        except StorageError as exc:
            loaded = None
            self.add(DAMAGE, store.directory, f"{label}: {exc}")
        for path in store.skipped:
            self.add(DAMAGE, path, f"{label}: damaged manifest version", "repair sets it aside")
        segments_dir = self.layout.segments_dir(cid)
        on_disk = [n for n in self.fs.list_dir(segments_dir) if ".tmp-" not in n]
        wal = inspect_wal(self.layout.collection_wal_dir(cid))
        manifest = loaded or Manifest()
        if loaded is None and not store.skipped and (on_disk or wal.first_seq > 1):
            self.add(
                DAMAGE,
                store.directory,
                f"{label}: no manifest, so its sealed segments are not known",
                "repair moves the segments to lost+found",
            )
        for problem in manifest.extra.get(DAMAGE_KEY, ()):
            self.add(
                DAMAGE,
                directory,
                f"{label}: recorded when it was opened: {problem}",
                "repair acknowledges it (the data it names cannot be brought back)",
            )
        self._wal(label, manifest, wal)
        live = set()
        for entry in manifest.segments:
            self.segments += 1
            live.add(entry.path.rsplit("/", 1)[-1])
            self._segment(record, label, entry)
        for name in on_disk:
            if name not in live:
                self.add(
                    NOTE if loaded is not None and not store.skipped else DAMAGE,
                    join(segments_dir, name),
                    f"{label}: a segment directory the manifest does not name",
                    "removed on the next open when the manifest is intact, else moved to "
                    "lost+found",
                )

    def _wal(self, label: str, manifest: Manifest, wal: RecoveryReport) -> None:
        floor = max([manifest.wal_seq, *(e.wal_seq for e in manifest.segments)])
        if wal.damaged:
            self.add(
                DAMAGE,
                wal.directory,
                f"{label}: write-ahead log damaged ({wal.reason}); about "
                f"{wal.dropped_records} records after seq {wal.last_seq} are lost",
                "the next open keeps the valid prefix and moves the rest aside",
            )
        elif not wal.clean:
            self.add(NOTE, wal.directory, f"{label}: a torn final write ({wal.reason})")
        if wal.found_files == 0 and floor:
            self.add(DAMAGE, wal.directory, f"{label}: write-ahead log missing")
        elif wal.last_seq < floor:
            self.add(
                DAMAGE,
                wal.directory,
                f"{label}: write-ahead log ends at seq {wal.last_seq}, before the manifest's "
                f"checkpoint {floor}: unsealed writes after it are lost",
                "the next open continues numbering after the checkpoint",
            )
        elif wal.first_seq > floor + 1:
            self.add(
                DAMAGE,
                wal.directory,
                f"{label}: write-ahead log starts at seq {wal.first_seq}, after the manifest's "
                f"checkpoint {floor}: writes {floor + 1}..{wal.first_seq - 1} are lost",
            )

    def _segment(self, record: CollectionRecord, label: str, entry: SegmentEntry) -> None:
        path = self.layout.resolve(record.collection_id, entry.path)
        remedy = (
            "repair moves the segment to lost+found (its rows are then gone from the collection)"
        )
        verified = "segment.json" in entry.checksums
        try:
            files = read_segment(
                self.fs, path, record.schema, checksums=entry.checksums if verified else None
            )
            if verified:
                if entry.deletes_file:
                    verify_file(
                        self.fs,
                        join(path, entry.deletes_file),
                        entry.checksums.get(entry.deletes_file, ""),
                    )
            else:
                check_segment(files)
                read_segment_deletes(self.fs, path, name=entry.deletes_file or DELETES_FILE)
                self.add(
                    UNVERIFIED,
                    path,
                    f"{label}: written before checksums were kept; structure checked only",
                )
            rows = files.num_rows
            if rows != entry.num_rows:
                raise StorageError(
                    f"segment.json says {rows} rows, the manifest entry {entry.num_rows}"
                )
        except StorageError as exc:
            self.add(DAMAGE, path, f"{label}: {exc}", remedy)
            return
        for index_name in self.fs.list_dir(join(path, "indexes")):
            if ".tmp-" in index_name:
                continue
            index_dir = join(path, "indexes", index_name)
            if not verified:
                self.add(UNVERIFIED, index_dir, f"{label}: index without recorded checksums")
                continue
            expected = index_checksums(entry.checksums, index_name)
            if not expected:
                self.add(
                    NOTE,
                    index_dir,
                    f"{label}: index saved but not committed (an interrupted build)",
                    "the next open builds it again",
                )
                continue
            try:
                verify_tree(self.fs, index_dir, expected)
            except StorageError as exc:
                self.add(DAMAGE, index_dir, f"{label}: {exc}", "repair builds the index again")
