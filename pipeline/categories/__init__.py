"""Categories: how a closed category is represented and compared with text, and what is decided from that alone:
each segment's own category (``CategoryCoder``), segments that clearly describe a category (zero-shot claims), and
groups of segments no category describes (``OffListDetector``)."""
from pipeline.categories.coder import CategoryCoder
from pipeline.categories.items import (
    LABEL_TEMPLATES, CategoryItems, core_items, embed_categories, item_similarity, keyword_overlap,
)
from pipeline.categories.lemmas import LemmaAnalyzer, content_lemmas, lemma_pipeline, lemma_table
from pipeline.categories.null_texts import OFF_TOPIC_SENTENCES, SURVEY_REGISTER_NULL
from pipeline.categories.offlist import OffListDetector, corpus_baseline, off_topic_floor
from pipeline.categories.offlist_score import OffListScorer
from pipeline.categories.residual import RESIDUAL_LABELS, is_residual, topical
from pipeline.categories.zeroshot import calibrate_zeroshot_threshold, category_similarity, claim_segments

__all__ = ["CategoryCoder", "CategoryItems", "LABEL_TEMPLATES", "LemmaAnalyzer", "OFF_TOPIC_SENTENCES",
           "OffListDetector", "OffListScorer", "RESIDUAL_LABELS", "SURVEY_REGISTER_NULL", "calibrate_zeroshot_threshold",
           "category_similarity", "claim_segments", "content_lemmas", "core_items", "corpus_baseline",
           "embed_categories", "is_residual", "item_similarity", "keyword_overlap", "lemma_pipeline", "lemma_table",
           "off_topic_floor", "topical"]
