"""Text that is safe to put in an ERP payload.

lxml refuses control characters and lone surrogates, and some ERPs choke on anything
outside ISO-8859-1. Each check names the field so the stored error tells what to fix.
"""

from __future__ import annotations

import re
import unicodedata

from backoffice_export.errors import OrderDataError

# XML 1.0 allows tab, newline and carriage return; every other C0 control, DEL-adjacent C1
# controls are allowed by XML but meaningless to an ERP, lone surrogates are never allowed.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NON_LATIN1 = re.compile(r"[^\x00-\xff]")


def checked_text(value: object, field: str, *, max_length: int | None = None, required: bool = False) -> str:
    """``value`` as text, refusing what no XML or JSON receiver should get."""
    text = "" if value is None else str(value)
    if required and not text.strip():
        raise OrderDataError(field, "is required but empty")
    bad = _FORBIDDEN.search(text)
    if bad:
        raise OrderDataError(field, f"contains the control character U+{ord(bad.group()):04X}")
    length = len(text.encode("utf-16-le")) // 2  # as .NET's string.Length counts: UTF-16 code units
    if max_length is not None and length > max_length:
        raise OrderDataError(field, f"is {length} characters long, at most {max_length} allowed")
    return text


def latin1_only(text: str) -> str:
    """Remove every character outside ISO-8859-1 (the StyleMan ``FilterNonIso88591Characters`` rule)."""
    return _NON_LATIN1.sub("", text)


# What a file name on Windows, Linux and FTP servers takes without escaping: letters, digits,
# spaces and a few marks. Never a separator, a drive colon, a wildcard or a control character.
# Plain Latin readings of characters a narrow character set lacks; others decompose (NFKD) or go.
_READINGS = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Œ": "OE", "œ": "oe",  # noqa: RUF001
    "€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"',  # noqa: RUF001
    "…": "...", "•": "*",
}


def latin1_text(text: str) -> str:
    """Free text in ISO-8859-1 (``transliterated``)."""
    return transliterated(text, "iso-8859-1")


def transliterated(text: str, encoding: str) -> str:
    """Free text in ``encoding``: a character it lacks becomes its plain reading (``Ł`` -> ``L``,
    ``€`` -> ``EUR``), else its base letter (``ź`` -> ``z``), else it is removed (an emoji)."""
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    return "".join(ch if _encodes(ch, encoding) else
                   "".join(c for c in (_READINGS.get(ch) or unicodedata.normalize("NFKD", ch)) if _encodes(c, encoding))
                   for ch in text)


def _encodes(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()&+,-]{0,99}$")
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                              *(f"LPT{i}" for i in range(1, 10))})


def safe_path_part(value: str | None, field: str) -> str:
    """An order number or application name that may become one path segment, never more.

    Allow-listed rather than escaped: no ``..``, separator, drive letter, Windows device name or
    trailing space or dot (Windows drops those) ever reaches a local or remote path.
    """
    text = value or ""
    unsafe = (not _SAFE_NAME.match(text) or ".." in text or text.endswith((" ", "."))
              or text.split(".")[0].strip().upper() in _WINDOWS_DEVICES)
    if unsafe:
        raise OrderDataError(field, f"{text!r} cannot be used in a file name (ASCII letters, digits, spaces and "
                                    "'._()&+,-'; not starting with a mark, not ending in a space or dot)")
    return text


def safe_file_name(value: str, fallback: str) -> str:
    """``value`` made into a safe file name: unsafe characters become ``_``; ``fallback`` if nothing is left."""
    name = re.sub(r"[^A-Za-z0-9 ._()&+,-]", "_", value.replace("..", "_")).strip(" ._-")
    try:
        return safe_path_part(name[:100].rstrip(" ."), "file name")
    except OrderDataError:
        return fallback


def country_code(value: str | None, field: str) -> str | None:
    """An ISO 3166 alpha-2 country code as ERPs expect it: upper case; ``None`` when empty."""
    text = checked_text(value, field).strip().upper()
    if not text:
        return None
    if not re.fullmatch(r"[A-Z]{2}", text):
        raise OrderDataError(field, f"{text!r} is not a two-letter ISO country code")
    return text
