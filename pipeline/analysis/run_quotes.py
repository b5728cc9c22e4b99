"""More quotes on demand from a completed run (``pipeline quotes --n N`` beyond what quotes.csv holds).

The run's own files are enough: segments.csv (texts, themes, each segment's own category and score, attributes),
themes.csv (the categories each theme stands for), theme_answers.csv (every answer's full text and ratings) and
manifest.json (the config). The segments' embeddings come from the embedding cache the run filled (the model loads
only for texts the cache lacks), so the quotes are those the run would have chosen with ``quotes.per_theme = N``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.analysis.naming_stage import build_identifier
from pipeline.analysis.quotes import QuoteInputs, select_quotes
from pipeline.core.config import Config
from pipeline.core.records import Answer, Quote, Theme
from pipeline.io.run_reader import load_run, read_manifest, read_rows

ATTRIBUTE_PREFIX, RATING_PREFIX = "attr_", "rating:"


def _answers(run_dir: Path) -> list[Answer]:
    answers: dict[str, Answer] = {}
    path = run_dir / "theme_answers.csv"
    for row in read_rows(path) if path.is_file() else []:
        if row["answer_id"] in answers:
            continue
        answers[row["answer_id"]] = Answer(
            row["answer_id"], row["file"], int(row["row"] or 0), row["respondent_id"], row["answer"],
            ratings={k[len(RATING_PREFIX):]: v for k, v in row.items() if k.startswith(RATING_PREFIX)},
            meta={k[len(ATTRIBUTE_PREFIX):]: v for k, v in row.items() if k.startswith(ATTRIBUTE_PREFIX)})
    return list(answers.values())


def _embeddings(config: Config, run_dir: Path, texts: list[str]) -> np.ndarray:
    from pipeline.embed import CachedEmbedder, get_embedder
    from pipeline.embed.cache import EmbeddingCache

    cache_dir = Path(config.embed.cache_dir)
    if not cache_dir.is_dir() and (run_dir.parent / ".cache" / "embeddings").is_dir():
        cache_dir = run_dir.parent / ".cache" / "embeddings"  # the run was made from another folder
    embedder = get_embedder(config.embed.model, config.embed.device, config.embed.batch_size)
    return np.asarray(CachedEmbedder(embedder, EmbeddingCache(cache_dir)).encode(texts))


def quotes_from_run(run_dir: Path, theme: Theme, n: int) -> list[Quote]:
    """``n`` unflagged quotes of ``theme`` (and the flagged ones among them), chosen as the run would have."""
    config = Config.model_validate(read_manifest(run_dir).get("config", {}))
    themes, segments, assignments = load_run(run_dir)
    rows = read_rows(run_dir / "segments.csv")
    standing = {int(r["theme_id"]): tuple(c.strip() for c in r.get("categories", "").split(";") if c.strip())
                for r in read_rows(run_dir / "themes.csv")}
    scores = tuple((r.get("category_id", ""), float(r["category_score"]) if r.get("category_score") else None)
                   for r in rows)
    attributes = {r["respondent_id"]: {k[len(ATTRIBUTE_PREFIX):]: v for k, v in r.items()
                                       if k.startswith(ATTRIBUTE_PREFIX) and v} for r in rows}
    answers = _answers(run_dir)
    identifier, _ = build_identifier(config, [s.text for s in segments])
    inputs = QuoteInputs(answers, identifier, scores if any(c for c, _ in scores) else (), standing, attributes)
    embeddings = _embeddings(config, run_dir, [s.clean_text for s in segments])
    return select_quotes(themes, assignments, segments, embeddings, answers, config.quotes, inputs, n=n,
                         only=theme.theme_id)
