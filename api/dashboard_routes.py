"""The dashboard page at ``/`` and its assets at ``/dashboard/...``, shipped in api/dashboard/.

Public (the page holds no data; everything it shows comes from authenticated /api/v1 calls and
the WebSocket). Served with a strict Content-Security-Policy: scripts, styles and connections
only from this server, no inline script, no framing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from slowapi import Limiter

from api.settings import ApiSettings

ASSETS = Path(__file__).resolve().parent / "dashboard"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".html": "text/html"}


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    files = {p.relative_to(ASSETS).as_posix(): p for p in ASSETS.rglob("*") if p.is_file()}

    @router.get("/")
    async def page() -> FileResponse:
        return FileResponse(ASSETS / "index.html", media_type="text/html", headers=SECURITY_HEADERS)

    @router.get("/dashboard/{name:path}")
    async def asset(name: str) -> FileResponse:
        path = files.get(name)  # only the files shipped: no path is ever joined from the request
        if path is None:
            raise HTTPException(404, "no such dashboard file")
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                            headers=SECURITY_HEADERS)

    return router
