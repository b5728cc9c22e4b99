"""Bytes to text without ever failing on the bytes themselves: UTF-8 (BOM or not), UTF-16 with or without a BOM,
mostly-UTF-8 files with stray cp1252 bytes, else cp1252; every guess other than UTF-8 is reported."""
from __future__ import annotations

import codecs

from pipeline.core.errors import ConfigError


def decode(data: bytes, encoding: str | None) -> tuple[str, str, str]:
    """Return (text, encoding used, problem or "") without ever raising on the bytes themselves."""
    if encoding:
        if _codec_name(encoding) == "utf-8" and data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"  # a BOM is not text, even when the user said "utf-8"
        try:
            return data.decode(encoding), encoding, ""
        except UnicodeDecodeError as exc:
            text = data.decode(encoding, errors="replace")
            return text, encoding, f"not valid {encoding} (byte {exc.start}); undecodable bytes replaced with '\ufffd'"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "utf-16", ""
        except UnicodeDecodeError:
            pass
    bomless = _utf16_without_bom(data)
    if bomless:
        try:
            note = f"no byte-order mark; read as {bomless.upper()} (set ingest.encoding to override)"
            return data.decode(bomless), bomless, note
        except UnicodeDecodeError:
            pass
    utf8 = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return data.decode(utf8), utf8, ""
    except UnicodeDecodeError:
        pass
    # Files pasted together from several exports are mostly UTF-8 with some cp1252 bytes; decoding them whole as
    # either one garbles the other part.
    marked = data.decode(utf8, errors="replace")
    n_invalid = marked.count("\ufffd") - data.count("\ufffd".encode())
    n_utf8 = sum(1 for char in marked if ord(char) > 0x7F) - marked.count("\ufffd")
    if n_utf8 >= n_invalid:
        note = f"mixed encodings: mostly UTF-8, {n_invalid} invalid byte runs read as cp1252"
        return data.decode(utf8, errors=_CP1252_FALLBACK), f"{utf8}+cp1252", note
    # Windows exports of English text are cp1252 far more often than anything charset detection guesses (it
    # reads a cp1252 file with one stray byte as Big5). The few bytes cp1252 leaves undefined are kept as latin-1,
    # as browsers do, so this never fails.
    text = data.decode("cp1252", errors=_CP1252_FALLBACK)
    return text, "cp1252", "not UTF-8; read as cp1252 (set ingest.encoding to override)"


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 without a byte-order mark, as some exporters
    write; else None. Mostly-ASCII UTF-16 has a zero byte in every other position; mostly non-ASCII UTF-16
    (Cyrillic, Greek, CJK) still has one for each ASCII character (digits, commas, line breaks), and read as UTF-8
    it is mostly control characters or invalid bytes, which no real UTF-8 text is."""
    sample = data[:65536]
    sample = sample[:len(sample) // 2 * 2]  # whole 16-bit units
    if len(sample) < 4:
        return None
    even_zeros, odd_zeros = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd_zeros >= 0.6 * half and even_zeros <= 0.05 * half:
        return "utf-16-le"
    if even_zeros >= 0.6 * half and odd_zeros <= 0.05 * half:
        return "utf-16-be"
    for name, zeros, other in (("utf-16-le", odd_zeros, even_zeros), ("utf-16-be", even_zeros, odd_zeros)):
        if zeros < 0.02 * half or zeros <= 4 * other:
            continue
        if bad_share(sample.decode(name, errors="replace")) < 0.01 and \
                bad_share(sample.decode("utf-8", errors="replace")) > 0.2:
            return name
    return None


def bad_share(text: str) -> float:
    """Share of characters no text holds: control characters other than tab and line breaks, and U+FFFD."""
    bad = sum(1 for char in text if (char < " " and char not in "\t\r\n") or "\x7f" <= char < "\xa0"
              or char == "\ufffd")
    return bad / max(len(text), 1)


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"ingest.encoding: unknown encoding {encoding!r}") from None


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


_CP1252_FALLBACK = "pipeline-ingest-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)
