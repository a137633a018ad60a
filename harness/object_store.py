"""A folder-backed Object Store with LEAN's LocalObjectStore rules.

- Keys must match LEAN's path pattern (at most one dot, no colon ...); anything else raises
  ``ArgumentException`` with LEAN's message. Leading dots and slashes are stripped and ``\\``
  becomes ``/`` (LEAN's NormalizePath).
- ``save(key, text)`` replaces the whole value; there is no append.
- ``keys`` lists what is on disk too; ``contains_key``/``read`` pick up files another process
  wrote under a new key, but a key already cached is not re-read (LEAN's cache semantics).
- Writes go straight to the file, non-atomically, as LEAN's periodic flush does.
"""

from __future__ import annotations

import os
import re
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
    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, str] = {}
        self._written: set[str] = set()

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
        file = self._path(key)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        self._cache[key] = text
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
