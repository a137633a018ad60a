"""WebSocket connection manager (seed 3.4).

- Each client has a bounded queue and its own sender task; ``broadcast`` never awaits a client's
  socket, it only enqueues (``put_nowait``).
- A client whose queue is full is a slow consumer and is dropped.
- Disconnected clients are removed atomically under the lock (the list is rebuilt, no
  check-then-remove), and their sockets are closed outside the lock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from utils.logging_config import get_logger

logger = get_logger(__name__)

SLOW_CONSUMER_CODE = 1013  # "try again later"
SHUTDOWN_CODE = 1001  # "going away"


@dataclass(eq=False)
class WebSocketClient:
    websocket: WebSocket
    queue: asyncio.Queue[str]
    address: str
    id: int
    sender: asyncio.Task[None] | None = None


class ConnectionManager:
    def __init__(self, queue_size: int = 64, max_clients: int = 500) -> None:
        self._clients: list[WebSocketClient] = []
        self._lock = asyncio.Lock()
        self._queue_size = queue_size
        self._max_clients = max_clients
        self.dropped_slow = 0
        self._next_id = 0

    @property
    def count(self) -> int:
        return len(self._clients)

    async def register(self, websocket: WebSocket, address: str) -> WebSocketClient | None:
        """Add an authenticated client and start its sender; None when the server is full."""
        self._next_id += 1
        client = WebSocketClient(websocket, asyncio.Queue(maxsize=self._queue_size), address, self._next_id)
        async with self._lock:
            if len(self._clients) >= self._max_clients:
                logger.warning("WEBSOCKET_CLIENT_REFUSED_FULL", extra={"client_ip": address,
                                                                       "max_clients": self._max_clients})
                return None
            self._clients = [*self._clients, client]
            count = len(self._clients)
        client.sender = asyncio.create_task(self._send_loop(client), name=f"ws-sender-{client.id}")
        logger.info("WEBSOCKET_CLIENT_CONNECTED", extra={"client_id": client.id, "client_ip": address,
                                                         "client_count": count})
        return client

    def send_to(self, client: WebSocketClient, message: str) -> bool:
        try:
            client.queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    async def broadcast(self, message: str) -> int:
        """Queue ``message`` for every client; drop the slow ones. Returns how many got it."""
        clients = self._clients  # the list is replaced, never mutated: a consistent view
        slow = [c for c in clients if not self.send_to(c, message)]
        if slow:
            self.dropped_slow += len(slow)
            logger.warning("WEBSOCKET_SLOW_CONSUMERS_DROPPED", extra={
                "client_ids": [c.id for c in slow], "queue_size": self._queue_size})
            await self.cleanup_disconnected(slow, code=SLOW_CONSUMER_CODE)
        return len(clients) - len(slow)

    async def cleanup_disconnected(self, disconnected: list[WebSocketClient], code: int = 1000) -> int:
        """Remove clients atomically; close them outside the lock. Returns how many were removed."""
        async with self._lock:
            gone = {id(c) for c in disconnected}
            before = len(self._clients)
            self._clients = [c for c in self._clients if id(c) not in gone]
            removed = before - len(self._clients)
            remaining = len(self._clients)
        if removed:
            logger.info("WEBSOCKET_CLIENTS_REMOVED", extra={"removed_count": removed, "remaining_count": remaining})
        current = asyncio.current_task()
        for client in disconnected:
            if client.sender is not None and client.sender is not current:
                client.sender.cancel()
            try:
                await client.websocket.close(code=code)
            except (RuntimeError, OSError, WebSocketDisconnect) as exc:  # already closed by the peer
                logger.debug("WEBSOCKET_CLOSE_SKIPPED", extra={"client_id": client.id, "error": str(exc)})
        return removed

    async def close_all(self) -> int:
        return await self.cleanup_disconnected(list(self._clients), code=SHUTDOWN_CODE)

    async def _send_loop(self, client: WebSocketClient) -> None:
        try:
            while True:
                message = await client.queue.get()
                await client.websocket.send_text(message)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            logger.info("WEBSOCKET_SEND_FAILED", extra={"client_id": client.id,
                                                        "error": str(exc) or type(exc).__name__})
            await self.cleanup_disconnected([client])
