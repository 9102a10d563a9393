"""A host's data folder as a scratch mirror of the object store.

The step code keeps working on local paths. With `PIPELINE_STORE=s3`, `PIPELINE_DATA_DIR` is this
host's scratch copy of the bucket's prefix, with the same layout:

- before a step (the IO manager loads its first input), the step's own files (`<asset>.*`,
  `<asset>/...`: its finished items, for a resume) are made exactly what the store holds, and the
  files of each asset it reads are fetched;
- while it runs, every file it finishes (renamed into place: `atomic_write`, `tmp.replace`) is
  uploaded at once, by an inotify watcher on the project's folder and the cache folder, or
  synchronously by `atomic_write`; a crash loses the unfinished items only;
- when it ends (the IO manager stores its output), everything else it wrote is uploaded, then its
  `<asset>.json` last;
- cache entries (`cache/...`) are fetched one by one when a step asks whether one exists
  (`CachePath`), never listed or copied as a whole.

Names starting with a dot (temporary files, lock files) and `cache/slots/` (request slots: locks of
this host) are never mirrored. The usage ledger (`usage.json`), written by steps on several hosts at
once, is merged record by record with a conditional PUT instead of being overwritten.
"""

import json
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

from pipeline.objects.s3 import Obj, ObjectStore, md5_of
from pipeline.objects.settings import object_store_enabled, s3_settings

log = logging.getLogger(__name__)

LEDGER = "usage.json"
NOT_MIRRORED = ("cache/slots/",)
# A cache entry used is made young again (touched) when it was last written longer ago than this: the
# retention's guard for unfinished projects allows for it (pipeline/objects/retention.py).
REFRESH = timedelta(hours=1)
INPUTS_EVERY = 5.0  # seconds between two fetches of the shared inputs (sources, logos, fonts) in a process


def mirrored(rel: str) -> bool:
    """Whether a path relative to the data folder is kept in the store."""
    parts = PurePosixPath(rel).parts
    if not parts or any(p.startswith(".") or p in ("", "..") for p in parts):
        return False
    return not any(rel.startswith(p) for p in NOT_MIRRORED)


def safe_rel(rel: str) -> bool:
    """A key read from the bucket that may become a local path: relative, no '..', no empty part."""
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and all(
        p not in ("", ".", "..") for p in rel.split("/"))


def merge_ledgers(mine: bytes | None, theirs: bytes | None) -> bytes:
    """Two usage ledgers as one: every call record of both (this host's wins for the same call)."""
    def parse(raw: bytes | None) -> dict:
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {}

    assets: dict[str, dict] = {}
    for source in (parse(theirs), parse(mine)):
        for asset, calls in (source.get("assets") or {}).items():
            assets.setdefault(asset, {}).update(calls)
    fields = ("tokens_in", "tokens_out", "text_calls", "images", "speech_seconds", "avatar_seconds")
    totals = {}
    for asset, calls in assets.items():
        total = {f: sum(c.get(f, 0) for c in calls.values()) for f in fields}
        totals[asset] = {k: round(v, 2) if isinstance(v, float) else v for k, v in total.items()}
    return json.dumps({"totals": totals, "assets": assets}, indent=1).encode("utf-8")


class Mirror:
    """One data folder (`root`) mirroring one store; one per process and root (`mirror_at`)."""

    def __init__(self, root: Path, store: ObjectStore):
        self.root = root
        self.store = store
        self._synced: dict[str, tuple[int, int, str]] = {}  # rel -> (size, mtime_ns, etag) as last synced here
        self._fresh: set[str] = set()  # cache entries known young in the store (touched or written here)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mirror-upload")
        self._pending: set[Future] = set()
        self._observer = None
        self._watches: dict[str, tuple[object, int]] = {}  # folder -> (watch, users)
        self._inputs_at = 0.0
        self._pid = os.getpid()

    # -- paths ---------------------------------------------------------------------------------------

    def rel(self, path: str | Path) -> str | None:
        """`path` relative to the root, as a key, when it is inside the root and mirrored."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.root).as_posix()
        except ValueError:
            return None
        return rel if mirrored(rel) else None

    def uri(self, path: str | Path) -> str | None:
        rel = self.rel(path)
        return self.store.uri(rel) if rel else None

    def _remember(self, rel: str, path: Path, etag: str) -> None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return
        with self._lock:
            self._synced[rel] = (st.st_size, st.st_mtime_ns, etag)

    def _current(self, rel: str, path: Path, obj: Obj) -> bool:
        """Whether the local file holds the stored object."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        if st.st_size != obj.size:
            return False
        known = self._synced.get(rel)
        if known is not None and known[:2] == (st.st_size, st.st_mtime_ns):
            return known[2] == obj.etag
        if md5_of(path) == obj.etag:
            self._remember(rel, path, obj.etag)
            return True
        return False

    def _unchanged(self, rel: str, path: Path) -> bool:
        """The local file is the one this process last pulled or pushed."""
        known = self._synced.get(rel)
        if known is None:
            return False
        try:
            st = path.stat()
        except FileNotFoundError:
            return True
        return known[:2] == (st.st_size, st.st_mtime_ns)

    def _local(self, prefix: str) -> list[tuple[str, Path]]:
        """Local mirrored files under `prefix` ('a/b/' a folder, 'a/b.' the files of a/ named b.*)."""
        folder, _, start = prefix.rpartition("/")
        base = self.root / folder
        if not base.is_dir():
            return []
        found = []
        if start:
            entries = [p for p in base.iterdir() if p.name.startswith(start) and p.is_file()]
        else:
            entries = [p for p in base.rglob("*") if p.is_file()]
        for path in entries:
            rel = self.rel(path)
            if rel is not None:
                found.append((rel, path))
        return found

    # -- down ----------------------------------------------------------------------------------------

    def pull(self, prefixes: list[str], exact: bool = False) -> int:
        """Fetch what the store holds under each prefix and is not here yet; how many files were fetched.

        `exact` (a step's own files) also removes the local files the store does not hold: what a crashed
        process left (a finished item it had not uploaded is made again), so the step starts from the store.
        """
        self.drain()
        fetched = 0
        for prefix in prefixes:
            remote = {o.rel: o for o in self.store.objects(prefix) if safe_rel(o.rel) and mirrored(o.rel)}
            for rel, obj in remote.items():
                path = self.root / rel
                if rel.endswith("/") or self._current(rel, path, obj):
                    continue
                got = self.store.download(rel, path, lambda tmp, etag, rel=rel: self._remember(rel, tmp, etag))
                if got is not None:
                    fetched += 1
            if exact:
                for rel, path in self._local(prefix):
                    if rel not in remote:
                        path.unlink(missing_ok=True)
                        with self._lock:
                            self._synced.pop(rel, None)
        return fetched

    def pull_ledger(self, project: str) -> None:
        """Merge the store's usage ledger of the project into the local one (under the ledger's lock)."""
        rel = f"projects/{project}/{LEDGER}"
        got = self.store.get_bytes(rel)
        if got is None:
            return
        path = self.root / rel
        with _ledger_lock(path):
            mine = path.read_bytes() if path.exists() else None
            merged = merge_ledgers(mine, got[0])
            if merged != mine:
                _write(path, merged)
            if merged == got[0]:
                self._remember(rel, path, got[1])  # else this host has records the store lacks: pushed later

    def pull_inputs(self, force: bool = False) -> None:
        """The shared inputs (everything but projects/, cache/ and exports/: sources, logos, fonts)."""
        if not force and time.monotonic() - self._inputs_at < INPUTS_EVERY:
            return
        self._inputs_at = time.monotonic()
        folders, files = self.store.top_level()
        shared = sorted(set(folders) - {"projects", "cache", "exports"})
        self.pull([f"{f}/" for f in shared if safe_rel(f)] + [f for f in files if safe_rel(f)])

    def fetch(self, path: Path) -> bool:
        """A cache entry: fetched from the store when it is not here; whether it exists now (here)."""
        rel = self.rel(path)
        if rel is None:
            return False
        got = self.store.download(rel, path, lambda tmp, etag: self._remember(rel, tmp, etag))
        if got is None:
            return False
        if rel.startswith("cache/"):
            self._refresh(rel, got.modified)
        return True

    def _refresh(self, rel: str, modified: datetime | None) -> None:
        """Make a cache entry young in the store (once per process), if it was last written long ago."""
        if rel in self._fresh:
            return
        if modified is None:
            obj = self.store.head(rel)
            if obj is None:
                return
            modified = obj.modified
        if datetime.now(timezone.utc) - modified > REFRESH:
            self.store.touch(rel)
        self._fresh.add(rel)

    def used(self, path: Path) -> None:
        """A cache entry found here: make sure the store knows it was just used."""
        rel = self.rel(path)
        if rel is not None and rel not in self._fresh:
            self._refresh(rel, None)

    # -- up ------------------------------------------------------------------------------------------

    def push_file(self, path: str | Path) -> bool:
        """Upload one finished file (unless this process synced it as it is); whether it was uploaded."""
        path = Path(path)
        rel = self.rel(path)
        if rel is None or not path.is_file() or self._unchanged(rel, path):
            return False
        if rel.endswith(f"/{LEDGER}") and rel.count("/") == 2:
            mine = path.read_bytes()  # written whole (atomic_write): no lock needed to read it
            etag = self.store.merge_put(rel, lambda theirs: merge_ledgers(mine, theirs))
            self._remember(rel, path, etag)
            return True
        etag = self.store.upload(path, rel)
        self._remember(rel, path, etag)
        if rel.startswith("cache/"):
            self._fresh.add(rel)
        return True

    def push(self, prefixes: list[str]) -> int:
        """Upload every local file under the prefixes that the store does not hold as it is here."""
        self.drain()
        sent = 0
        for prefix in prefixes:
            remote = self.store.listing(prefix)
            for rel, path in self._local(prefix):
                obj = remote.get(rel)
                if obj is not None and self._current(rel, path, obj):
                    continue
                if self.push_file(path):
                    sent += 1
        return sent

    def queue(self, path: str) -> None:
        """Upload a file in the background (the watcher saw it renamed into place)."""
        if self.rel(path) is None:
            return
        future = self._pool.submit(self._push_quietly, path)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(lambda f: self._done(f))

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def _push_quietly(self, path: str) -> None:
        try:
            self.push_file(path)
        except FileNotFoundError:
            pass  # replaced or removed since: its successor has its own event
        except Exception as e:  # noqa: BLE001 - the step's end pushes it again and reports a failure
            log.warning("upload of %s failed (it is tried again when the step ends): %s", path, e)

    def drain(self) -> None:
        """Wait for the background uploads queued so far."""
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            for future in pending:
                future.exception()

    # -- watching ------------------------------------------------------------------------------------

    def watch(self, folder: Path) -> None:
        """Upload files finished under `folder` as they appear (counted: `unwatch` as often)."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        mirror = self

        class Finished(FileSystemEventHandler):
            def on_moved(self, event):  # a temp file renamed into place: finished
                if not event.is_directory:
                    mirror.queue(os.fsdecode(event.dest_path))

        folder.mkdir(parents=True, exist_ok=True)
        key = str(folder)
        with self._lock:
            if self._observer is None:
                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            if key in self._watches:
                watch, users = self._watches[key]
                self._watches[key] = (watch, users + 1)
                return
            self._watches[key] = (self._observer.schedule(Finished(), key, recursive=True), 1)

    def unwatch(self, folder: Path) -> None:
        key = str(folder)
        with self._lock:
            if key not in self._watches:
                return
            watch, users = self._watches[key]
            if users > 1:
                self._watches[key] = (watch, users - 1)
                return
            del self._watches[key]
            observer = self._observer
        try:
            observer.unschedule(watch)
        except (KeyError, OSError):
            pass

    # -- steps ---------------------------------------------------------------------------------------

    def begin_step(self, project: str, asset: str) -> None:
        """Before a step of `asset`: its own files as the store holds them, the ledger, the approval; watching."""
        base = f"projects/{project}/"
        self.watch(self.root / "cache")
        self.watch(self.root / "projects" / project)
        self.pull_inputs()
        self.pull([f"{base}{asset}.", f"{base}{asset}/"], exact=True)
        self.pull([f"{base}approval.json"])
        self.pull_ledger(project)

    def fetch_asset(self, project: str, asset: str) -> None:
        """The files of an asset a step reads."""
        base = f"projects/{project}/"
        self.pull([f"{base}{asset}.", f"{base}{asset}/"])

    def end_step(self, project: str, asset: str, output: Path | None = None, watched: bool = True) -> None:
        """After the step's body: everything it wrote (the output JSON `output` last); watching stops
        (when `begin_step` started it: `watched`)."""
        base = f"projects/{project}/"
        try:
            self.push([f"{base}{asset}/", f"{base}{asset}.", f"exports/{project}/"])
            if (self.root / base / LEDGER).exists():
                self.push_file(self.root / base / LEDGER)
            if output is not None:
                self.push_file(output)
        finally:
            if watched:
                self.unwatch(self.root / "projects" / project)
                self.unwatch(self.root / "cache")


def _write(path: Path, data: bytes) -> None:
    from pipeline.store import atomic_write

    atomic_write(path, data, upload=False)


class _ledger_lock:
    """The usage ledger's own file lock (pipeline/usage.py takes the same one)."""

    def __init__(self, path: Path):
        self.lock_path = path.with_name(f".{path.name}.lock")

    def __enter__(self):
        import fcntl

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.lock_path, "a")
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


_mirrors: dict[tuple[str, object, int], Mirror] = {}
_mirrors_lock = threading.Lock()


def mirror_at(root: str | Path) -> Mirror | None:
    """The mirror of the data folder `root` in this process; None with the local store."""
    if not object_store_enabled():
        return None
    settings = s3_settings()
    root = Path(root).resolve()
    key = (str(root), settings, os.getpid())
    with _mirrors_lock:
        if key not in _mirrors:
            _mirrors[key] = Mirror(root, ObjectStore(settings))
        return _mirrors[key]


def mirror_of(path: str | Path) -> Mirror | None:
    """The mirror whose data folder holds `path` (a data folder in use in this process, or the default one)."""
    if not object_store_enabled():
        return None
    from pipeline.store import default_data_dir

    path = Path(os.path.abspath(path))
    with _mirrors_lock:
        roots = [Path(k[0]) for k in _mirrors if k[2] == os.getpid()]
    for root in sorted({*roots, default_data_dir()}, key=lambda r: len(r.parts), reverse=True):
        if root in path.parents:
            return mirror_at(root)
    return None
