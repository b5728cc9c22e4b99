"""Coding the blind sample, the editors' quote picker, the audit trail and the downloads."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from pipeline.core.errors import PipelineError
from pipeline.io.run_reader import read_manifest
from pipeline.workspace import coding
from pipeline.workspace.web import attempt, back, check_write, render
from pipeline.workspace.coding import CodingSession
from pipeline.workspace.pages import quote_groups
from pipeline.workspace.session import Workspace

router = APIRouter()
WRITE = [Depends(check_write)]


def _ws(request: Request) -> Workspace:
    return request.app.state.workspace


def _session(request: Request) -> CodingSession:
    workspace = _ws(request)
    return CodingSession(workspace.run_dir, workspace.who)


@router.get("/code")
def code_start(request: Request) -> Response:
    session = _session(request)
    if not session.exists():
        size = int(read_manifest(_ws(request).run_dir).get("config", {}).get("validate", {}).get("sample_size", 60))
        return render(request, "code_draw.html", title="Code the blind sample", size=size)
    item = session.next_item()
    return back(request, "/code/agreement" if item is None else f"/code/{item}")


@router.post("/code/draw", dependencies=WRITE)
def code_draw(request: Request, n: int = Form(60)) -> Response:
    session = _session(request)
    seed = int(getattr(_ws(request).config, "seed", 42))
    return attempt(request, "/code", lambda: session.draw(n, seed) or f"a blind sample of {n} segments",
                   success=f"drew a blind sample of {n} segments")


@router.get("/code/agreement")
def code_agreement(request: Request) -> Response:
    session = _session(request)
    if not session.exists() or not session.coded():
        return back(request, "/code", "code some items first")
    try:
        report, written = session.score()
    except PipelineError as exc:
        return back(request, "/code", f"cannot score yet: {exc}", error=True)
    kappa = next((row for row in report.pairwise if "machine" in (row["rater_a"], row["rater_b"])), None)
    per_code = [row for row in report.per_code if row["support"]]
    return render(request, "agreement.html", title="Agreement with the machine", report=report, kappa=kappa,
                  per_code=per_code, n_coded=len(session.coded()), n_items=len(session.items()),
                  sheet=str(session.sheet_path), written=[str(p) for p in written],
                  retrain=coding.ACTIVE_LEARNER is not None)


@router.post("/code/retrain", dependencies=WRITE)
def code_retrain(request: Request) -> Response:  # HOOK(issue 13): shown only when an active learner is set
    session = _session(request)
    if coding.ACTIVE_LEARNER is None:
        return back(request, "/code", "no trained coder is installed", error=True)
    return attempt(request, "/code/agreement",
                   lambda: coding.ACTIVE_LEARNER.retrain(session.run_dir, [session.sheet_path]))


@router.get("/code/{item}")
def code_item(request: Request, item: int) -> Response:
    session = _session(request)
    if not session.exists():
        return back(request, "/code")
    items = session.items()
    row = next((r for r in items if int(r["item"]) == item), None)
    if row is None:
        return back(request, "/code", f"no item {item} on the sheet", error=True)
    codes = session.codes()
    chosen = next((c["number"] for c in codes if c["code"] == row["code"]), None)
    done = len(session.coded())
    return render(request, "code.html", title=f"Item {item}", row=row, codes=codes, chosen=chosen, done=done,
                  total=len(items), position=[int(r["item"]) for r in items].index(item) + 1,
                  sheet=str(session.sheet_path), retrain=coding.ACTIVE_LEARNER is not None)


@router.post("/code/{item}", dependencies=WRITE)
def code_save(request: Request, item: int, number: int = Form(...)) -> Response:
    session = _session(request)
    try:
        session.save(item, number)
    except PipelineError as exc:
        return back(request, f"/code/{item}", f"not saved: {exc}", error=True)
    following = session.next_item(after=item)
    return back(request, "/code/agreement" if following is None else f"/code/{following}")


@router.get("/quotes")
def quotes_page(request: Request) -> Response:
    return render(request, "quotes.html", title="Quotes", groups=quote_groups(_ws(request).view))


@router.get("/audit")
def audit_page(request: Request) -> Response:
    workspace = _ws(request)
    return render(request, "audit.html", title="Audit trail", rows=workspace.store.audit(),
                  store=str(workspace.store.path), labels=str(workspace.labels_path))


@router.get("/export/{kind}")
def export(request: Request, kind: str) -> Response:
    from pipeline.export import EXPORTERS

    workspace = _ws(request)
    if kind not in EXPORTERS:
        return back(request, "/", f"unknown export {kind!r}", error=True)
    folder = Path(tempfile.mkdtemp(prefix="pipeline-export-"))
    try:
        path = EXPORTERS[kind](workspace.run_dir, folder / f"{workspace.run_dir.name}.{kind}")
    except PipelineError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return back(request, "/", f"export failed: {exc}", error=True)
    return FileResponse(path, filename=path.name, background=BackgroundTask(shutil.rmtree, folder, True))
