"""Themes and edits: the themes list, a theme's page (every segment, paged, with its answer, attributes, ratings
and secondary themes; search and filters), and one POST route per edit. Every edit goes through the edit store
(SQLite + audit), regenerates labels.yaml and rebuilds every output before the page comes back."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from pipeline.workspace import edits
from pipeline.workspace.web import attempt, back, check_write, render
from pipeline.workspace.pages import theme_segments, themes_table
from pipeline.workspace.session import Workspace

router = APIRouter()
WRITE = [Depends(check_write)]


def _ws(request: Request) -> Workspace:
    return request.app.state.workspace


def _labels(workspace: Workspace) -> dict[str, str]:
    return {value: label for value, label in workspace.pin_choices()}


@router.get("/")
def themes_page(request: Request) -> Response:
    workspace = _ws(request)
    rows, has_off_list = themes_table(workspace.view, _labels(workspace))
    return render(request, "themes.html", title="Themes", rows=rows, has_off_list=has_off_list)


@router.get("/themes/{theme_id}")
def theme_page(request: Request, theme_id: int, q: str = "", page: int = 1) -> Response:
    workspace = _ws(request)
    view = workspace.view
    if theme_id not in {t.theme_id for t in view.themes}:
        return back(request, "/", f"theme {theme_id} is not in this run (merged away, or gone after a re-run)", True)
    theme = view.theme(theme_id)
    facets = view.facets()
    filters = {name: request.query_params.get(f"f.{name}", "") for name in facets}
    labels = workspace.store.labels()
    items, found, pages = theme_segments(view, theme_id, q, filters, page, recoded=set(labels.segments))
    entry = labels.themes.get(theme_id)
    others = [t for t in view.themes if t.theme_id != theme_id and not t.noise]
    return render(request, "theme.html", title=theme.label, theme=theme, items=items, found=found, pages=pages,
                  page=min(max(page, 1), pages), q=q, facets=facets, filters=filters, others=others,
                  all_themes=[t for t in view.themes if not t.noise], category=_labels(workspace).get(
                      theme.category_id or "", "emergent: not in the closed list" if theme.emergent else ""),
                  pin_choices=workspace.pin_choices(), merged_into=entry.merge_into if entry else None,
                  rating_names=view.rating_names(),
                  size=len(view.members(theme_id)))


def _theme_edit(request: Request, theme_id: int, action: str, change) -> Response:
    workspace = _ws(request)
    return attempt(request, f"/themes/{theme_id}",
                   lambda: workspace.edit(action, f"theme {theme_id}", change))


@router.post("/themes/{theme_id}/rename", dependencies=WRITE)
def rename(request: Request, theme_id: int, label: str = Form("")) -> Response:
    return _theme_edit(request, theme_id, "rename", lambda labels: edits.rename(labels, theme_id, label))


@router.post("/themes/{theme_id}/define", dependencies=WRITE)
def define(request: Request, theme_id: int, definition: str = Form("")) -> Response:
    return _theme_edit(request, theme_id, "define", lambda labels: edits.define(labels, theme_id, definition))


@router.post("/themes/{theme_id}/memo", dependencies=WRITE)
def memo(request: Request, theme_id: int, memo: str = Form("")) -> Response:
    return _theme_edit(request, theme_id, "memo", lambda labels: edits.memo(labels, theme_id, memo))


@router.post("/themes/{theme_id}/noise", dependencies=WRITE)
def noise(request: Request, theme_id: int, on: str = Form("1")) -> Response:
    return _theme_edit(request, theme_id, "noise", lambda labels: edits.noise(labels, theme_id, on == "1"))


@router.post("/themes/{theme_id}/pin", dependencies=WRITE)
def pin(request: Request, theme_id: int, category: str = Form("")) -> Response:
    return _theme_edit(request, theme_id, "pin", lambda labels: edits.pin(labels, theme_id, category))


@router.post("/themes/{theme_id}/promote", dependencies=WRITE)
def promote(request: Request, theme_id: int, code_id: str = Form(""), label: str = Form(""),
            definition: str = Form("")) -> Response:
    closed = {c.category_id for c in _ws(request).categories}
    return _theme_edit(request, theme_id, "promote",
                       lambda labels: edits.promote(labels, theme_id, code_id, label, definition, closed))


@router.post("/themes/{theme_id}/merge", dependencies=WRITE)
def merge(request: Request, theme_id: int, into: int = Form(...)) -> Response:
    workspace = _ws(request)
    return attempt(request, f"/themes/{into}",
                   lambda: workspace.edit("merge", f"theme {theme_id}", lambda labels: edits.merge(labels, theme_id,
                                                                                                   into)))


@router.post("/themes/{theme_id}/split", dependencies=WRITE)
def split(request: Request, theme_id: int, label: str = Form(""), definition: str = Form(""),
          segment: list[str] = Form(default_factory=list)) -> Response:
    workspace = _ws(request)
    made: dict[str, int] = {}

    def change(labels):
        new, detail, new_id = edits.split(labels, segment, label, definition)
        made["id"] = new_id
        return new, detail

    response = attempt(request, f"/themes/{theme_id}", lambda: workspace.edit("split", f"theme {theme_id}", change))
    if "id" in made and made["id"] in {t.theme_id for t in workspace.view.themes}:
        response.headers["location"] = f"/themes/{made['id']}"
    return response


@router.post("/recode", dependencies=WRITE)
def recode(request: Request, target: str = Form(...), theme: str = Form(...), scope: str = Form("segment"),
           back_to: str = Form("/")) -> Response:
    workspace = _ws(request)
    what = target.rpartition("#")[0] if scope == "answer" and "#" in target else target
    if theme == "machine":
        change = lambda labels: edits.uncode(labels, what)  # noqa: E731
    else:
        change = lambda labels: edits.recode(labels, what, theme)  # noqa: E731
    return attempt(request, back_to, lambda: workspace.edit("recode", what, change))
