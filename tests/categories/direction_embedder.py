"""A test embedder whose geometry is known exactly: the first digit in a text picks its unit axis."""
from __future__ import annotations

import numpy as np


class DirectionEmbedder:
    """Embeds "topic i" (and any prompt template around it) as the unit vector on axis i, and text without a digit
    on the last axis: each category's items are one known direction, so planted segments can be placed exactly."""

    name = "direction-test"

    def __init__(self, dim: int):
        self.dim = dim

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            digits = [int(ch) for ch in str(text) if ch.isdigit()]
            out[row, digits[0] if digits else self.dim - 1] = 1.0
        return out
