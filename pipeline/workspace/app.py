"""The workspace web app (FastAPI + Jinja2 with autoescaping): pages over one completed run and the analyst's edits.

Security, for a tool that holds survey answers and is meant for one analyst's own machine:

- bound to 127.0.0.1 by default (``pipeline serve --host``); the Host header must name that address (or
  localhost) so a web page elsewhere cannot reach the server through DNS rebinding;
- a random token made at every start (``secrets.token_urlsafe``) is in the printed URL. Every page needs it:
  reads show respondents' answers, so a read is as sensitive as a write. The first visit with ``?token=`` sets it
  as an HttpOnly, SameSite=Strict cookie so links inside the app need not carry it;
- every write (POST) needs the token in the form (``token``) or the ``X-Pipeline-Token`` header: the cookie alone
  is not enough, so another site cannot make the browser post an edit;
- all text is rendered by Jinja2 with autoescaping on; the pages load only the package's own CSS and JS
  (``pipeline/workspace/static``): nothing is fetched from elsewhere, so they work offline.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pipeline.workspace import routes, routes_code
from pipeline.workspace.session import Workspace

HERE = Path(__file__).resolve().parent
COOKIE = "pipeline_token"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda value, digits=2: "" if value in (None, "") else f"{float(value):.{digits}f}"
    return env


def create_app(workspace: Workspace, token: str, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The app for ``workspace``; ``token`` guards every page and write; ``allowed_hosts`` are the Host header
    values accepted (default: loopback names; ``["*"]`` when serving on another interface)."""
    app = FastAPI(title="pipeline workspace", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.workspace = workspace
    app.state.token = token
    app.state.env = environment()
    app.state.flash = []
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def require_token(request: Request, call_next):
        if request.url.path.startswith("/static/"):
            return await call_next(request)  # the package's own CSS/JS: no survey data
        if request.method not in ("GET", "HEAD"):
            return await call_next(request)  # every write route checks the form token itself (check_write)
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            html = app.state.env.get_template("denied.html").render(title="Token needed")
            return HTMLResponse(html, status_code=403)
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    app.include_router(routes.router)
    app.include_router(routes_code.router)
    return app
