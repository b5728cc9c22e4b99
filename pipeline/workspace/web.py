"""What every route shares: the write check (token in the form), rendering a template, and the redirect after an
edit with its one-line message."""
from __future__ import annotations

import secrets
from typing import Any

from fastapi import Form, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.core.errors import PipelineError
from pipeline.workspace.session import RebuildError, Workspace


def check_write(request: Request, token: str | None = Form(None),
                header: str | None = Header(None, alias="X-Pipeline-Token")) -> None:
    """A FastAPI dependency of every POST: the token in the form or the header, never the cookie alone."""
    expected = request.app.state.token.encode()
    if not any(given and secrets.compare_digest(given.encode(), expected) for given in (token, header)):
        raise HTTPException(status_code=403, detail="this write needs the workspace token in the form")


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    state = request.app.state
    workspace: Workspace = state.workspace
    flash, state.flash = list(state.flash), []
    html = state.env.get_template(template).render(
        token=state.token, run_id=workspace.view.run_id, who=workspace.who, flash=flash,
        run_dir=str(workspace.run_dir), **context)
    return HTMLResponse(html)


def back(request: Request, target: str, message: str = "", error: bool = False) -> Response:
    """303 to ``target`` (a path inside the app) with a one-line message shown on the next page."""
    if message:
        request.app.state.flash.append({"text": message, "error": error})
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return RedirectResponse(target, status_code=303)


def attempt(request: Request, target: str, action, success: str | None = None) -> Response:
    """Run ``action()`` (an edit); a PipelineError becomes a message on the page instead of a failure."""
    try:
        detail = action()
    except RebuildError as exc:
        return back(request, target, str(exc), error=True)
    except PipelineError as exc:
        return back(request, target, f"not saved: {exc}", error=True)
    return back(request, target, success or f"saved: {detail}; every output was rebuilt")
