"""LEAN's ``Command`` base class and command delivery, as the harness needs them.

In LEAN, ``lean live command PROJECT --data '{"$type": "MyCommand", ...}'`` (or the cloud's
``/live/commands/create``) builds a ``MyCommand`` registered with ``add_command``, sets the other
payload fields as attributes and calls ``run(algorithm)``. ``HarnessEngine._send_command`` does the
same for tests.
"""

from __future__ import annotations

from typing import Any


class Command:
    """Base generic dynamic command class (QuantConnect.Commands.Command)."""

    def run(self, algorithm: Any) -> bool | None:
        raise NotImplementedError("a command class overrides run(algorithm)")


def build_command(registered: dict[str, type], payload: dict[str, Any]) -> Command:
    """The registered command named by ``payload["$type"]`` with the payload's fields set."""
    name = payload.get("$type")
    if not isinstance(name, str) or name not in registered:
        raise KeyError(f"no command registered as {name!r} (add_command it first)")
    command = registered[name]()
    for key, value in payload.items():
        if key != "$type":
            setattr(command, key, value)
    return command
