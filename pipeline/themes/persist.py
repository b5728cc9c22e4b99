"""Saving and loading a fitted ThemeModel: BERTopic's safetensors save plus ``state.json``/``centroids.npz`` (the
learned assignments and centroids, which BERTopic's save drops along with UMAP/HDBSCAN), so a loaded model
assigns the training segments exactly as ``fit`` did."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from pipeline.categories import LemmaAnalyzer
from pipeline.core.errors import PipelineError
from pipeline.core.records import Assignment, Reassignment, Theme
from pipeline.io.atomic import atomic_write_text, current_umask
from pipeline.themes.bertopic_adapter import bertopic_backend
from pipeline.themes.representation import quiet_bertopic

# what a fitted model learned, beyond its themes and assignments, saved as-is in state.json
LEARNED = ("selection_", "zeroshot_threshold_", "zeroshot_calibration_", "size_parameters_", "coding_")


def save_model(model, path: str | Path) -> None:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with quiet_bertopic():
        model.topic_model_.save(path / "bertopic", serialization="safetensors", save_ctfidf=True,
                                save_embedding_model=False)
    for saved in (path / "bertopic").rglob("*"):  # safetensors writes 0600 whatever the umask
        if saved.is_file():
            saved.chmod(0o666 & ~current_umask())
    theme_ids = sorted(model.centroids_)
    np.savez(path / "centroids.npz", theme_ids=np.asarray(theme_ids, dtype=np.int64),
             centroids=np.vstack([model.centroids_[t] for t in theme_ids]) if theme_ids else np.zeros((0, 0)))
    state = {"params": model.get_params(), "themes": [asdict(t) for t in model.themes_],
             "assignments": [asdict(a) for a in model.assignments_],
             "reassignments": [asdict(r) for r in model.reassignments_],
             **{name.rstrip("_"): getattr(model, name) for name in LEARNED},
             "segment_categories": model.segment_categories_,
             "segment_off_list": list(getattr(model, "segment_off_list_", [])), "train_index": model.train_index_}
    atomic_write_text(path / "state.json", json.dumps(state, indent=1))


def load_model(cls, path: str | Path, embedder, with_topic_model: bool = True):
    """The saved model. ``with_topic_model=False`` skips BERTopic (and its import): enough for the learned
    themes, assignments and centroids, and for ``transform`` of new segments."""
    path = Path(path)
    if not (path / "state.json").is_file():
        raise PipelineError("not a saved theme model (state.json missing)", file=str(path))
    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    model = cls(**state["params"])
    model.themes_ = [Theme(**{**t, "keywords": tuple(t["keywords"])}) for t in state["themes"]]
    model.assignments_ = [Assignment(a["segment_id"], a["theme_id"], a["weight"],
                                     tuple((int(t), float(w)) for t, w in a["secondary"]))
                          for a in state["assignments"]]
    model.reassignments_ = [Reassignment(**r) for r in state["reassignments"]]
    for name in LEARNED:
        setattr(model, name, state.get(name.rstrip("_"), {} if name == "coding_" else None))
    model.segment_categories_ = [(str(c), float(s)) for c, s in state.get("segment_categories", [])]
    model.segment_off_list_ = [float(s) for s in state.get("segment_off_list", [])]
    model.train_index_ = state["train_index"]
    with np.load(path / "centroids.npz") as data:
        model.centroids_ = {int(t): c.astype(np.float32) for t, c in zip(data["theme_ids"], data["centroids"])}
    if not with_topic_model:
        return model
    from bertopic import BERTopic

    if not (path / "bertopic").is_dir():  # BERTopic.load unpickles a *file* of that name: never give it one
        raise PipelineError("not a saved theme model (bertopic/ is not a folder of safetensors files)",
                            file=str(path))
    model.topic_model_ = BERTopic.load(str(path / "bertopic"), embedding_model=bertopic_backend(embedder))
    vectorizer = model.topic_model_.vectorizer_model
    vectorizer.analyzer = LemmaAnalyzer()  # BERTopic's save drops a callable analyzer
    vectorizer.fixed_vocabulary_ = True
    model.vectorizer_ = vectorizer
    return model
