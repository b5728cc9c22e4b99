"""The naming stage (after mapping): one identifiability check for the run, readable labels for themes found
without the closed list, and keywords without names.

- A theme keeps its label when the analyst wrote it (labels.yaml) or it is its closed category's label; every
  other theme (emergent, or a cluster mapped whole) gets the phrase label of ``pipeline.analysis.naming``.
- Keywords that hold a name (``Identifier.names_in_phrase``: "dr okafor") are left out of every output; a
  warning says how many, never which.
- Each segment's identifiability flags are computed once here and read by the quotes and the codebook.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pipeline.analysis.identify import Identifier, load_ner
from pipeline.analysis.naming import PhraseIndex, candidates, choose_label, label_fit, render
from pipeline.categories import lemma_pipeline, lemma_table
from pipeline.core.artifacts import Categories, Cleaned, Embedded, Labelled, Mapped, Named
from pipeline.core.context import RunContext
from pipeline.core.records import UNASSIGNED, Theme
from pipeline.core.vectors import unit_rows


def build_identifier(config, texts: Sequence[str]) -> tuple[Identifier, list[str]]:
    """The run's identifiability check from its config (``quotes``) and every kept text."""
    ner, warnings = load_ner(config.quotes.ner_model)
    public = list(config.quotes.public_names) + list(config.clean.acronyms.values())
    return Identifier(config.quotes.identifying_terms, public, texts, ner), warnings


def phrase_index(texts: Sequence[str], identifier: Identifier, domain_stop: Sequence[str]) -> PhraseIndex:
    nlp, table = lemma_pipeline(), lemma_table()
    return PhraseIndex(texts, set(nlp.Defaults.stop_words), {w.lower() for w in domain_stop},
                       lambda w: table.get(w, w).lower(), lambda t: [tok.text for tok in nlp.tokenizer(t)],
                       identifier.names_in_phrase)


def _encoder(ctx: RunContext, embedder):
    if ctx.cache_dir is not None:
        from pipeline.embed import CachedEmbedder
        from pipeline.embed.cache import EmbeddingCache

        embedder = CachedEmbedder(embedder, EmbeddingCache(ctx.cache_dir))
    return lambda texts: np.asarray(embedder.encode(list(texts)), dtype=np.float64)


def _renames(themes: Sequence[Theme], keep: set[int]) -> list[Theme]:
    return [t for t in themes if t.theme_id != UNASSIGNED and not t.noise and t.theme_id not in keep]


def naming_stage(ctx: RunContext, clean: Cleaned, embed: Embedded, labels: Labelled, mapping: Mapped,
                 categories: Categories) -> Named:
    config, segments = ctx.config, list(clean.segments)
    texts = [s.text for s in segments]
    identifier, warnings = build_identifier(config, texts)
    category_labels = {c.label for c in categories.categories}
    keep = set(labels.renamed) | {t.theme_id for t in mapping.themes if t.label in category_labels}
    index = phrase_index(texts, identifier, config.themes.stop_words) if segments else None
    primary = np.array([a.theme_id for a in labels.assignments])
    vectors = unit_rows(embed.embeddings, np.float64) if len(segments) else np.zeros((0, 1))
    encode = _encoder(ctx, embed.embedder) if embed.embedder is not None else None
    renamed, fits = {}, {}
    for theme in _renames(mapping.themes, keep):
        members = [int(i) for i in np.flatnonzero(primary == theme.theme_id)]
        if index is None or encode is None or len(members) < 2:
            continue
        chosen = choose_label(candidates(index, members), members, index, unit_rows(vectors[members].mean(axis=0)),
                              encode)
        if chosen:
            renamed[theme.theme_id] = render(chosen, config.clean.acronyms)
            fits[theme.theme_id] = {**label_fit({p.key for p in chosen}, members, index.docs),
                                    "previous": theme.label, "source": "phrase"}
    themes, dropped = [], 0
    for theme in mapping.themes:
        keywords = tuple(k for k in theme.keywords if not identifier.names_in_phrase(k))
        dropped += len(theme.keywords) - len(keywords)
        themes.append(dataclasses.replace(theme, label=renamed.get(theme.theme_id, theme.label), keywords=keywords))
    if dropped:
        warnings.append(f"{dropped} theme keyword(s) left out of every output: they hold a person's or a place's "
                        "name (see quotes.identifying_terms and quotes.public_names)")
    flags = tuple(identifier.flags(text) for text in texts)
    return Named(tuple(themes), fits, flags, identifier, tuple(warnings))
