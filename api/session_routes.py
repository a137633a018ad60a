"""POST/GET/DELETE /api/v1/session: the dashboard's sign-in, CSRF token and sign-out (api/sessions.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from slowapi import Limiter

from api.schemas import ERROR_RESPONSES
from api.services import services_of
from api.sessions import COOKIE_NAME, cookie_value
from api.settings import ApiSettings
from models.audit import AuditAction
from services.http_auth import client_address
from utils.logging_config import get_logger

logger = get_logger(__name__)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=512, description="TRADING_API_TOKEN")


class SessionInfo(BaseModel):
    csrf_token: str
    idle_timeout_seconds: float


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["session"], responses=ERROR_RESPONSES)
    idle_seconds = settings.dashboard_session_minutes * 60

    @router.post("/session", response_model=SessionInfo, summary="Sign in: the API token for a session cookie",
                 openapi_extra={"security": []})
    async def sign_in(request: Request, body: SignIn) -> JSONResponse:
        services = services_of(request)
        client = client_address(request.scope)
        if not services.verifier.verify(body.token):
            retry_after = services.auth_failures.record(client, "POST /api/v1/session", "invalid")
            if retry_after is not None:
                raise HTTPException(429, "too many failed authentication attempts",
                                    headers={"Retry-After": str(retry_after)})
            raise HTTPException(401, "invalid token")
        session = services.sessions.create(services.verifier.principal)
        services.audit.log(AuditAction.AUTH_LOGIN, "Dashboard sign-in", actor="dashboard", actor_type="human",
                           resource_type="session", resource_id=session.principal, ip_address=client)
        response = JSONResponse({"csrf_token": session.csrf_token, "idle_timeout_seconds": idle_seconds})
        response.set_cookie(COOKIE_NAME, session.id, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
        return response

    @router.get("/session", response_model=SessionInfo, summary="The browser session's CSRF token (404: none)",
                openapi_extra={"security": []})
    async def session_info(request: Request) -> SessionInfo:
        session = services_of(request).sessions.get(cookie_value(request.scope.get("headers", ())))
        if session is None:
            raise HTTPException(404, "no browser session: sign in with POST /api/v1/session")
        return SessionInfo(csrf_token=session.csrf_token, idle_timeout_seconds=idle_seconds)

    @router.delete("/session", status_code=204, summary="Sign out")
    async def sign_out(request: Request) -> Response:
        services = services_of(request)
        session_id = request.scope.get("state", {}).get("session_id")
        if services.sessions.delete(session_id):
            services.audit.log(AuditAction.AUTH_LOGOUT, "Dashboard sign-out", actor="dashboard", actor_type="human",
                               resource_type="session", resource_id=str(request.scope["state"]["principal"]),
                               ip_address=client_address(request.scope))
        response = Response(status_code=204)
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return response

    return router
