"""Text that is safe to put in an ERP payload.

lxml refuses control characters and lone surrogates, and some ERPs choke on anything
outside ISO-8859-1. Each check names the field so the stored error tells what to fix.
"""

from __future__ import annotations

import re

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


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def safe_path_part(value: str | None, field: str) -> str:
    """An order number or application name that may become one path segment, never more.

    Allow-listed rather than escaped: a name that would need escaping is refused, so no
    ``..``, separator or drive letter ever reaches a local or remote path.
    """
    text = value or ""
    if not _SAFE_NAME.match(text) or ".." in text:
        raise OrderDataError(field, f"{text!r} cannot be used in a file name (letters, digits, '.', '_', '-')")
    return text
