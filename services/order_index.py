"""The order list's index: inbox request ids ordered by (submitted_at, request_id), overall and per
action, so ``GET /api/v1/orders`` reads one page, not the whole inbox.

``refresh`` lists the inbox folder only when its modification time changed (a request was added or
removed, by this process or another) and parses only the files it has not seen; an unreadable file
is listed too (ordered by its file time, under no action) so that ``GET`` can show it quarantined.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from utils.logging_config import get_logger
from utils.order_inbox import InboxRequest, parse_inbox_key

logger = get_logger(__name__)

Loader = Callable[[str], tuple[InboxRequest | None, str | None]]
SortKey = tuple[datetime, str]
ALL = ""  # the list of every request, whatever its action


class OrderIndex:
    def __init__(self, folder: Path, folder_key: str, load: Loader) -> None:
        self._folder = folder
        self._folder_key = folder_key  # e.g. "options_bot/inbox/": parse_inbox_key wants whole keys
        self._load = load
        self._known: dict[str, tuple[SortKey, str]] = {}  # request id -> (sort key, action or ALL)
        self._lists: dict[str, list[SortKey]] = {ALL: []}
        self._mtime: int | None = None
        self._lock = threading.Lock()

    def add(self, request: InboxRequest) -> None:
        """A request this process has just written. Never waits (a write must not wait for the index to
        be built): while a refresh runs, the request is left to the next one (the folder changed)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._insert(request.request_id, (request.submitted_at, request.request_id), request.action.value)
        finally:
            self._lock.release()

    def refresh(self) -> None:
        try:
            mtime: int | None = os.stat(self._folder).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        with self._lock:
            if mtime == self._mtime:
                return
            ids = self._list_ids() if mtime is not None else set()
            gone = self._known.keys() - ids
            if gone:
                self._remove(gone)
            for request_id in sorted(ids - self._known.keys()):
                self._index_file(request_id)
            self._mtime = mtime  # read before listing: a file added meanwhile triggers the next refresh

    def page(self, offset: int, limit: int, action: str | None = None) -> tuple[int, list[str]]:
        """(total, ids of one page), newest first."""
        self.refresh()
        with self._lock:
            entries = self._lists.get(action or ALL, [])
            total = len(entries)
            stop, start = max(total - offset, 0), max(total - offset - limit, 0)
            return total, [request_id for _, request_id in reversed(entries[start:stop])]

    # -- internals (lock held) ------------------------------------------------------------------
    def _list_ids(self) -> set[str]:
        ids = set()
        with os.scandir(self._folder) as entries:
            for entry in entries:
                request_id = parse_inbox_key(self._folder_key + entry.name)
                if request_id is not None:
                    ids.add(request_id)
        return ids

    def _index_file(self, request_id: str) -> None:
        request, error = self._load(request_id)
        if request is not None:
            self._insert(request_id, (request.submitted_at, request_id), request.action.value)
            return
        if error is None:
            return  # removed since the listing
        try:
            moment = datetime.fromtimestamp(os.stat(self._folder / f"{request_id}.json").st_mtime, UTC)
        except FileNotFoundError:
            return
        self._insert(request_id, (moment, request_id), ALL)

    def _insert(self, request_id: str, key: SortKey, action: str) -> None:
        if request_id in self._known:
            return
        self._known[request_id] = (key, action)
        for name in {ALL, action}:
            bisect.insort(self._lists.setdefault(name, []), key)

    def _remove(self, gone: set[str]) -> None:
        for request_id in gone:
            del self._known[request_id]
        self._lists = {ALL: []}
        for key, action in self._known.values():
            for name in {ALL, action}:
                self._lists.setdefault(name, []).append(key)
        for entries in self._lists.values():
            entries.sort()
        logger.info("ORDER_INDEX_REBUILT", extra={"removed": len(gone), "requests": len(self._known)})
