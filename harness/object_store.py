"""A folder-backed Object Store with LEAN's LocalObjectStore rules.

- Keys must match LEAN's path pattern (at most one dot, no colon ...); anything else raises
  ``ArgumentException`` with LEAN's message. Leading dots and slashes are stripped and ``\\``
  becomes ``/`` (LEAN's NormalizePath).
- ``save(key, text)`` replaces the whole value; there is no append.
- ``keys`` lists what is on disk too; ``contains_key``/``read`` pick up files another process
  wrote under a new key, but a key already cached is not re-read (LEAN's cache semantics).
- Writes are cached and persisted, non-atomically, about every ``persist_interval_seconds`` of
  wall time and by ``_persist()`` (the engine calls it at the end), as LEAN's LocalObjectStore
  does with Controls.PersistenceIntervalSeconds = 5 [Engine/Storage/LocalObjectStore.cs,
  Common/Packets/Controls.cs]; 0 writes through at once (LEAN's rule for <= 0). Deletes persist
  at once.
- Quota: at most ``max_files`` (10,000) keys and ``max_size`` (10 GiB) bytes; a save beyond it
  is refused (returns False) and reported through ``on_error``, not raised (LEAN's algorithm mode).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

# Engine/Storage/LocalObjectStore.cs, verbatim. Kept here (not imported from the project) so the
# harness checks the bot's keys against LEAN's rule, not against the bot's own idea of it.
_LEAN_PATH_REGEX = re.compile(r"^\.?[a-zA-Z0-9\\/_#\-\$= ]+\.?[a-zA-Z0-9]*$")


def is_valid_key(key: str) -> bool:
    return bool(_LEAN_PATH_REGEX.match(key)) and key.count("/") <= 100 and key.count("\\") <= 100


class ArgumentException(ValueError):
    """Raised like LEAN's System.ArgumentException for an unsupported key."""


class KeyNotFoundException(KeyError):
    """Raised like LEAN's System.Collections.Generic.KeyNotFoundException."""


def _normalize(key: str) -> str:
    return key.lstrip(".").lstrip("/\\").replace("\\", "/")


class ObjectStore:
    def __init__(self, root: Path, persist_interval_seconds: float = 0.0, max_files: int = 10_000,
                 max_size: int = 10 * 1024**3, on_error: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, str] = {}
        self._written: set[str] = set()
        self._dirty: set[str] = set()
        self._interval = persist_interval_seconds
        self._clock = clock
        self._last_persist = clock()
        self.max_files = max_files
        self.max_size = max_size
        self._on_error = on_error
        self._sizes: dict[str, int] | None = None  # key -> bytes, scanned from disk on the first save

    def _within_limits(self, key: str, size: int) -> bool:
        if self._sizes is None:
            self._sizes = {k: self._path(k).stat().st_size for k in self.keys if self._path(k).is_file()}
            self._sizes.update({k: len(v.encode("utf-8")) for k, v in self._cache.items()})
        files = len(self._sizes) + (key not in self._sizes)
        total = sum(self._sizes.values()) - self._sizes.get(key, 0) + size
        message = None
        if files > self.max_files:
            message = (f"You have reached the ObjectStore limit for files it can save: {files}/{self.max_files}. "
                       "Unable to save the new file.")
        elif total > self.max_size:
            message = (f"You have reached the ObjectStore storage capacity limit: {total / 1024**2:.0f}MB/"
                       f"{self.max_size / 1024**2:.0f}MB. Unable to save the new file.")
        if message is not None:
            if self._on_error is not None:
                self._on_error(f"{message} File: '{key}'")
            return False
        self._sizes[key] = size
        return True

    def _persist(self) -> None:
        """Write every cached change to its file (LEAN's Persist)."""
        for key in sorted(self._dirty):
            if key in self._cache:
                file = self._path(key)
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(self._cache[key], encoding="utf-8")
        self._dirty.clear()
        self._last_persist = self._clock()

    def _tick(self) -> None:
        """Persist when the interval has passed (LEAN's persistence timer)."""
        if self._dirty and self._clock() - self._last_persist >= self._interval:
            self._persist()

    def _path(self, key: str) -> Path:
        return self._root / key

    def save(self, path: str, text: str) -> bool:
        if path is None:
            raise ArgumentException("path")
        if not is_valid_key(path):
            raise ArgumentException(f"LocalObjectStore: path is not supported: '{path}'")
        if not isinstance(text, str):
            raise TypeError("ObjectStore.save(key, text) needs text (str)")
        key = _normalize(path)
        if not self._within_limits(key, len(text.encode("utf-8"))):
            return False
        self._cache[key] = text
        self._dirty.add(key)
        if self._interval <= 0:
            self._persist()
        else:
            self._tick()
        self._written.add(key)
        return True

    def contains_key(self, path: str) -> bool:
        key = _normalize(path)
        return key in self._cache or self._path(key).is_file()

    def read(self, path: str) -> str:
        key = _normalize(path)
        if key in self._cache:
            return self._cache[key]
        file = self._path(key)
        if not file.is_file():
            raise KeyNotFoundException(
                f"Object with path '{path}' was not found in the current project. "
                "Please use ObjectStore.ContainsKey(key) to check if an object exists before "
                "attempting to read.")
        text = file.read_text(encoding="utf-8")
        self._cache[key] = text
        return text

    def delete(self, path: str) -> bool:
        key = _normalize(path)
        was_cached = self._cache.pop(key, None) is not None
        self._dirty.discard(key)
        if self._sizes is not None:
            self._sizes.pop(key, None)
        file = self._path(key)
        if file.is_file():
            file.unlink()
            return True
        return was_cached

    @property
    def keys(self) -> list[str]:
        on_disk = set()
        root = str(self._root)
        for folder, _, files in os.walk(root):  # os.walk: several times faster than Path.rglob
            relative = os.path.relpath(folder, root).replace(os.sep, "/")
            prefix = "" if relative == "." else relative + "/"
            on_disk.update(prefix + name for name in files)
        return sorted(on_disk | set(self._cache))

    def get_file_path(self, path: str) -> str:
        return str(self._path(_normalize(path)))
