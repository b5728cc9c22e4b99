"""Clean: normalise answers, set aside the ones with no analysable text (each with a reason), and cut the rest into
segments whose offsets slice the original answer."""
from pipeline.clean.cleaner import CleanResult, Cleaner
from pipeline.clean.dedupe import find_near_duplicates
from pipeline.clean.normalize import compile_boilerplate, expand_acronyms, is_non_answer, normalize
from pipeline.clean.segment import split_segments

__all__ = ["CleanResult", "Cleaner", "compile_boilerplate", "expand_acronyms", "find_near_duplicates",
           "is_non_answer", "normalize", "split_segments"]
