"""The harness's Object Store follows LEAN's LocalObjectStore rules (DESIGN.md section 3).

Every test uses its own folder (tmp_path). "Another process" is simulated by writing the file
directly or by a second ObjectStore over the same folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.object_store import ArgumentException, KeyNotFoundException, ObjectStore, is_valid_key

VALID_KEYS = ["a/b/c.json", "options_bot/state.json", "x_y-z"]
INVALID_KEYS = ["state.v2.json", "a:b", "a/b.c.d"]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- key rule ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_lean_key_is_saved_as_the_file_of_the_same_path(tmp_path: Path, key: str) -> None:
    store = ObjectStore(tmp_path)

    saved = store.save(key, '{"v": 1}')

    assert saved is True
    assert (tmp_path / key).read_text(encoding="utf-8") == '{"v": 1}'
    assert store.read(key) == '{"v": 1}'
    assert store.contains_key(key)


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_key_lean_rejects_raises_argument_exception_and_writes_nothing(tmp_path: Path, key: str) -> None:
    store = ObjectStore(tmp_path)

    with pytest.raises(ArgumentException, match="path is not supported"):
        store.save(key, "text")

    assert files_under(tmp_path) == []
    assert not store.contains_key(key)


@pytest.mark.parametrize(("key", "valid"),
                         [(k, True) for k in VALID_KEYS] + [(k, False) for k in INVALID_KEYS])
def test_is_valid_key_matches_lean_path_regex(key: str, valid: bool) -> None:
    assert is_valid_key(key) is valid


def test_argument_exception_is_a_value_error_like_dotnet_argument_exception() -> None:
    assert issubclass(ArgumentException, ValueError)


def test_key_with_more_than_100_slashes_is_rejected(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    key = "/".join(["d"] * 102)

    with pytest.raises(ArgumentException):
        store.save(key, "deep")


@pytest.mark.parametrize("given", ["./a/b.json", "/a/b.json", "a\\b.json"])
def test_leading_dot_slash_and_backslashes_are_normalised(tmp_path: Path, given: str) -> None:
    store = ObjectStore(tmp_path)

    store.save(given, "payload")

    assert files_under(tmp_path) == ["a/b.json"]
    assert store.keys == ["a/b.json"]
    assert store.read("a/b.json") == "payload"
    assert store.contains_key("a/b.json")
    assert store.contains_key(given)


def test_get_file_path_is_the_normalised_key_under_the_store_folder(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)

    path = store.get_file_path("./bot/state.json")

    assert Path(path) == tmp_path / "bot" / "state.json"


def test_save_needs_text(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)

    with pytest.raises(TypeError):
        store.save("bot/state.json", b"bytes")  # type: ignore[arg-type]


# -- values --------------------------------------------------------------------------------------
def test_save_replaces_the_whole_value(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.save("bot/audit.json", "first value, quite a bit longer than the second")

    store.save("bot/audit.json", "second")

    assert store.read("bot/audit.json") == "second"
    assert (tmp_path / "bot" / "audit.json").read_text(encoding="utf-8") == "second"
    assert ObjectStore(tmp_path).read("bot/audit.json") == "second"


def test_read_of_a_missing_key_raises_key_not_found(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)

    with pytest.raises(KeyNotFoundException, match=r"bot/missing\.json"):
        store.read("bot/missing.json")


def test_key_not_found_is_a_key_error(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)

    with pytest.raises(KeyError):
        store.read("nothing")


def test_contains_key_is_false_for_a_missing_key(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)

    assert store.contains_key("bot/state.json") is False


# -- other writers -------------------------------------------------------------------------------
def test_keys_lists_files_another_writer_put_on_disk(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.save("bot/state.json", "mine")
    inbox = tmp_path / "bot" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "req-1.json").write_text('{"id": 1}', encoding="utf-8")

    keys = store.keys

    assert keys == ["bot/inbox/req-1.json", "bot/state.json"]


def test_a_new_key_another_process_wrote_can_be_found_and_read(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    assert not store.contains_key("bot/inbox/req-2.json")
    other = ObjectStore(tmp_path)

    other.save("bot/inbox/req-2.json", '{"id": 2}')

    assert store.contains_key("bot/inbox/req-2.json")
    assert store.read("bot/inbox/req-2.json") == '{"id": 2}'


def test_a_key_already_cached_is_not_reread_after_another_process_changed_the_file(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.save("bot/state.json", "v1")

    (tmp_path / "bot" / "state.json").write_text("v2", encoding="utf-8")

    assert store.read("bot/state.json") == "v1"
    assert ObjectStore(tmp_path).read("bot/state.json") == "v2"


def test_a_key_cached_by_a_read_is_not_reread_after_another_process_saved_it(tmp_path: Path) -> None:
    writer = ObjectStore(tmp_path)
    writer.save("bot/commands.json", "old")
    reader = ObjectStore(tmp_path)
    assert reader.read("bot/commands.json") == "old"

    writer.save("bot/commands.json", "new")

    assert reader.read("bot/commands.json") == "old"


# -- delete --------------------------------------------------------------------------------------
def test_delete_removes_the_value_and_its_file(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.save("bot/state.json", "v1")

    deleted = store.delete("bot/state.json")

    assert deleted is True
    assert not (tmp_path / "bot" / "state.json").exists()
    assert not store.contains_key("bot/state.json")
    assert "bot/state.json" not in store.keys
    with pytest.raises(KeyNotFoundException):
        store.read("bot/state.json")


def test_delete_removes_a_file_another_process_wrote(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    (tmp_path / "inbox.json").write_text("{}", encoding="utf-8")

    deleted = store.delete("inbox.json")

    assert deleted is True
    assert files_under(tmp_path) == []


def test_delete_of_a_missing_key_returns_false(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)

    assert store.delete("bot/never-saved.json") is False


def test_delete_normalises_the_key_like_save(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.save("bot/state.json", "v1")

    deleted = store.delete("./bot/state.json")

    assert deleted is True
    assert store.keys == []
