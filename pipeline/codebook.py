"""Label quality per theme and the codebook (codebook.csv / codebook.md) analysts exchange.

Label quality (:func:`label_quality`), one dict per theme:

- ``coherence``: mean NPMI over pairs of the first 10 content words of the theme's keywords (lower-cased lookup
  lemmas, stop words dropped, phrases split into words: whole phrases rarely recur in short answers), each
  segment one document. -1 = never together, 0 = as by chance, 1 = always together. On a small corpus of short
  answers most word pairs never meet, so absolute NPMI runs low; the floor is therefore calibrated on the corpus:
  the 95th percentile of the same score for 200 random sets of as many content words, drawn by document
  frequency (``coherence_floor``; pass ``min_coherence`` to fix it instead). Keywords that do not beat the floor
  co-occur no better than random words.
- ``distinctiveness``: 1 - the highest cosine between the theme's centroid and another theme's. Below
  ``min_distinctiveness`` (0.05, i.e. a centroid cosine above 0.95) it is hard to tell from its neighbour.
- ``cohesion``: mean cosine of the theme's members to its centroid. Below ``min_cohesion`` (0.3) its members
  are loosely related.
- ``weak``: True when coherence does not beat its floor or another score falls below its threshold;
  ``weak_reason`` says which and by how much.

The codebook has one row per theme (noise themes and the unassigned bin are not codes): id, label, definition,
keywords, category or "emergent", size, stability, the quality scores, three typical examples (members closest
to the centroid) and two borderline ones (members whose similarity to their own centroid beats the nearest other
theme's by the smallest margin), each borderline example naming the theme it borders.
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pipeline.categories import lemma_pipeline, lemma_table
from pipeline.labels import theme_centroids
from pipeline.outputs import atomic_write_text, write_csv
from pipeline.records import UNASSIGNED, Assignment, Category, Segment, Theme
from pipeline.embed import unit_rows

N_TYPICAL = 3
N_COHERENCE_WORDS = 10
N_BORDERLINE = 2
EXAMPLE_CHARS = 300
CODEBOOK_COLUMNS = [
    "theme_id", "label", "definition", "keywords", "category_id", "category", "size", "stability",
    "coherence", "distinctiveness", "cohesion", "weak", "weak_reason",
    *[f"typical_{i}" for i in range(1, N_TYPICAL + 1)],
    *[name for i in range(1, N_BORDERLINE + 1) for name in (f"borderline_{i}", f"borderline_{i}_vs")],
]


def lemma_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased lookup lemmas of the word tokens of each text (lookup lemmas are case-sensitive).

    The lookup lemmatizer is a table look-up per token, so it is applied directly to the tokenizer's output
    instead of building full Docs through the pipeline (4x faster on 10k segments, same lemmas)."""
    nlp = lemma_pipeline()
    table = lemma_table()
    return [[table.get(token.text, token.text).lower() for token in doc if token.is_alpha]
            for doc in nlp.tokenizer.pipe(t.lower() for t in texts)]


def npmi_coherence(keywords: Sequence[str], documents: Sequence[set[str]]) -> float:
    """Mean normalised PMI over keyword pairs; ``keywords`` and ``documents`` already lemmatised."""
    return _npmi([tuple(k.split()) for k in keywords if k.strip()], _inverted_index(documents), len(documents))


def _inverted_index(documents: Sequence[set[str]]) -> dict[str, set[int]]:
    index: dict[str, set[int]] = {}
    for position, doc in enumerate(documents):
        for word in doc:
            index.setdefault(word, set()).add(position)
    return index


def _npmi(terms: Sequence[tuple[str, ...]], index: Mapping[str, set[int]], n_docs: int) -> float:
    if n_docs == 0 or len(terms) < 2:
        return float("nan")
    docs = [set.intersection(*(index.get(word, set()) for word in term)) for term in terms]
    scores = []
    for i, j in itertools.combinations(range(len(terms)), 2):
        p_i, p_j, p_ij = len(docs[i]) / n_docs, len(docs[j]) / n_docs, len(docs[i] & docs[j]) / n_docs
        if p_ij == 0:
            scores.append(-1.0)
        elif p_ij == 1:
            scores.append(1.0)
        else:
            scores.append(math.log(p_ij / (p_i * p_j)) / -math.log(p_ij))
    return float(np.mean(scores))


def content_words(keywords: Sequence[str], n: int = N_COHERENCE_WORDS) -> list[str]:
    """The first ``n`` distinct non-stop-word lemmas of a theme's keywords (phrases split into words)."""
    stop_words = lemma_pipeline().Defaults.stop_words
    words = [w for phrase in lemma_tokens(keywords) for w in phrase if w not in stop_words and len(w) > 1]
    return list(dict.fromkeys(words))[:n]


def random_coherence(documents: Sequence[set[str]], n_words: int, quantile: float = 0.95, n_sets: int = 200,
                     random_state: int | None = 0) -> float:
    """The ``quantile`` of NPMI over random content-word sets of ``n_words``, drawn by document frequency."""
    index = _inverted_index(documents)
    stop_words = lemma_pipeline().Defaults.stop_words
    vocabulary = sorted(w for w in index if w not in stop_words and len(w) > 1)
    if len(vocabulary) < max(n_words, 2):
        return float("nan")
    weights = np.array([len(index[w]) for w in vocabulary], dtype=float)
    rng = np.random.default_rng(random_state)
    scores = [_npmi([(w,) for w in rng.choice(vocabulary, n_words, replace=False, p=weights / weights.sum())],
                    index, len(documents)) for _ in range(n_sets)]
    return float(np.quantile(scores, quantile))


def label_quality(
    themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment], embeddings: np.ndarray,
    tokenized_docs: Sequence[Sequence[str]] | None = None, *, min_coherence: float | None = None,
    min_distinctiveness: float = 0.05, min_cohesion: float = 0.3, random_state: int | None = 0,
) -> dict[int, dict[str, Any]]:
    """Coherence, distinctiveness and cohesion of each non-noise theme, with a ``weak`` flag and its reason.

    ``assignments``, ``segments``, ``embeddings`` (and ``tokenized_docs`` if given) are aligned row by row.
    ``min_coherence=None`` calibrates the coherence floor on this corpus (see the module docstring).
    """
    embeddings = unit_rows(embeddings, np.float64)
    coded = [t for t in themes if not t.noise and t.theme_id != UNASSIGNED]
    centroids = theme_centroids(assignments, embeddings, [t.theme_id for t in coded])
    if tokenized_docs is None:
        tokenized_docs = lemma_tokens([s.clean_text or s.text for s in segments])
    documents = [set(doc) for doc in tokenized_docs]
    index = _inverted_index(documents)
    words_of = {t.theme_id: content_words(t.keywords) for t in coded}
    floors: dict[int, float] = {}
    labels = np.array([a.theme_id for a in assignments])
    quality: dict[int, dict[str, Any]] = {}
    for theme in coded:
        words = words_of[theme.theme_id]
        if min_coherence is not None:
            floor = min_coherence
        elif len(words) not in floors:
            floor = floors[len(words)] = random_coherence(documents, len(words), random_state=random_state)
        else:
            floor = floors[len(words)]
        centroid = centroids.get(theme.theme_id)
        others = [c for other, c in centroids.items() if other != theme.theme_id]
        if centroid is None:
            distinctiveness = cohesion = float("nan")
        else:
            distinctiveness = 1.0 - max((float(centroid @ c) for c in others), default=0.0)
            cohesion = float((embeddings[labels == theme.theme_id] @ centroid).mean())
        coherence = _npmi([(w,) for w in words], index, len(documents))
        reasons = [f"coherence {coherence:.2f} not above {floor:.2f}"] if coherence <= floor else []
        reasons += [f"{name} {value:.2f} < {low:.2f}" for name, value, low in
                    (("distinctiveness", distinctiveness, min_distinctiveness), ("cohesion", cohesion, min_cohesion))
                    if value < low]
        if centroid is None:
            reasons.append("no members")
        quality[theme.theme_id] = {"coherence": coherence, "coherence_floor": floor, "distinctiveness": distinctiveness,
                                   "cohesion": cohesion, "weak": bool(reasons), "weak_reason": "; ".join(reasons)}
    return quality



def build_codebook(
    themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment], embeddings: np.ndarray,
    categories: Sequence[Category] = (), quality: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One codebook row per non-noise theme, in theme order (``CODEBOOK_COLUMNS``)."""
    embeddings = unit_rows(embeddings, np.float64)
    quality = quality or {}
    coded = [t for t in themes if not t.noise and t.theme_id != UNASSIGNED]
    labels_by_id = {t.theme_id: t.label for t in coded}
    category_labels = {c.category_id: c.label for c in categories}
    centroids = theme_centroids(assignments, embeddings, [t.theme_id for t in coded])
    ids = list(centroids)
    sims = embeddings @ np.array([centroids[i] for i in ids]).T if ids else np.zeros((len(segments), 0))
    primary = np.array([a.theme_id for a in assignments])
    rows = []
    for theme in coded:
        row: dict[str, Any] = {
            "theme_id": theme.theme_id, "label": theme.label, "definition": theme.definition,
            "keywords": ", ".join(theme.keywords), "category_id": theme.category_id or "",
            "category": "emergent" if theme.emergent or not theme.category_id
            else category_labels.get(theme.category_id, theme.category_id),
            "size": theme.size, "stability": round(theme.stability, 3),
        }
        scores = quality.get(theme.theme_id, {})
        row.update({key: scores.get(key, "")
                    for key in ("coherence", "distinctiveness", "cohesion", "weak", "weak_reason")})
        for key in ("coherence", "distinctiveness", "cohesion"):
            if isinstance(row[key], float):
                row[key] = round(row[key], 3)
        row.update(_examples(theme.theme_id, ids, sims, primary, segments, labels_by_id))
        rows.append(row)
    return rows


def _examples(theme_id: int, ids: list[int], sims: np.ndarray, primary: np.ndarray, segments: Sequence[Segment],
              labels_by_id: Mapping[int, str]) -> dict[str, str]:
    row = {name: "" for name in CODEBOOK_COLUMNS if name.startswith(("typical_", "borderline_"))}
    members = np.flatnonzero(primary == theme_id)
    if theme_id not in ids or not len(members):
        return row
    own = ids.index(theme_id)
    own_sims = sims[members, own]
    typical = members[np.argsort(-own_sims, kind="stable")[:N_TYPICAL]]
    for k, index in enumerate(typical, 1):
        row[f"typical_{k}"] = _clip(segments[index].text)
    if len(ids) < 2:
        return row
    others = sims[members].copy()
    others[:, own] = -np.inf
    nearest = others.argmax(axis=1)
    margins = own_sims - others[np.arange(len(members)), nearest]
    chosen = set(typical.tolist())
    k = 0
    for position in np.argsort(margins, kind="stable"):
        if k == N_BORDERLINE:
            break
        if members[position] in chosen:
            continue
        k += 1
        row[f"borderline_{k}"] = _clip(segments[members[position]].text)
        row[f"borderline_{k}_vs"] = labels_by_id.get(ids[nearest[position]], str(ids[nearest[position]]))
    return row


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1].rstrip() + "…"


def codebook_markdown(rows: Sequence[Mapping[str, Any]], title: str = "Codebook") -> str:
    """The codebook as Markdown: an index table, then one section per code with its examples."""
    lines = [f"# {title}", "", "| id | code | category | size | stability | weak |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['theme_id']} | {_cell(row['label'])} | {_cell(row['category'])} | {row['size']} | "
                     f"{row['stability']} | {'yes' if row.get('weak') is True else ''} |")
    for row in rows:
        lines += ["", f"## {row['theme_id']}. {row['label']}", ""]
        lines.append(f"**Definition.** {row['definition'] or '_None yet: add one in labels.yaml._'}")
        lines += ["", f"**Keywords.** {row['keywords']}", "",
                  f"**Category.** {row['category']}" + (f" (`{row['category_id']}`)" if row["category_id"] else ""), "",
                  f"**Size.** {row['size']} segments; stability {row['stability']}"]
        if row.get("coherence", "") != "":
            lines.append(f"; coherence {row['coherence']}, distinctiveness {row['distinctiveness']}, "
                         f"cohesion {row['cohesion']}")
        if row.get("weak") is True:
            lines += ["", f"**Weak label:** {row['weak_reason']}"]
        typical = [row[f"typical_{i}"] for i in range(1, N_TYPICAL + 1) if row.get(f"typical_{i}")]
        if typical:
            lines += ["", "**Typical examples**", ""] + [f"> {text}\n" for text in typical]
        borderline = [(row[f"borderline_{i}"], row[f"borderline_{i}_vs"]) for i in range(1, N_BORDERLINE + 1)
                      if row.get(f"borderline_{i}")]
        if borderline:
            lines += ["", "**Borderline examples**", ""]
            lines += [f"> {text}\n>\n> _(close to: {other})_\n" for text, other in borderline]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def write_codebook(out_dir: str | Path, rows: Sequence[Mapping[str, Any]],
                   title: str = "Codebook") -> tuple[Path, Path]:
    """Write codebook.csv and codebook.md into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    csv_path, md_path = out_dir / "codebook.csv", out_dir / "codebook.md"
    write_csv(csv_path, rows, columns=CODEBOOK_COLUMNS)
    atomic_write_text(md_path, codebook_markdown(rows, title))
    return csv_path, md_path
