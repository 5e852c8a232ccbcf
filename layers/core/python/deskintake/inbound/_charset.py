"""Decode the bytes real mail carries: aliased, mislabelled and missing charsets, RFC 2047 words."""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import quopri
import re

# Labels mail software writes, mapped to the codec that decodes what they really send: GB2312
# mail is GBK/GB18030 in practice, Big5 is HKSCS, ISO-8859-1 and ASCII are windows-1252 (as in
# every browser), KS C 5601 is CP949, Shift_JIS is CP932.
_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "chinese": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "x-windows-949": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "x-utf8": "utf-8",
    "x-user-defined": "cp1252",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
}
# Labels that promise nothing: decide from the bytes.
_UNKNOWN = frozenset({"unknown-8bit", "x-unknown", "unknown", "default", "8bit", "binary", ""})
_LABEL_JUNK = re.compile(r"^[\s\"']+|[\s\"';]+$")


def codec_for(label: str | None) -> str | None:
    """Map a MIME charset label to a Python codec name, or None when it names nothing usable."""
    if not label:
        return None
    name = _LABEL_JUNK.sub("", label).lower()
    if name in _UNKNOWN:
        return None
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # unknown name, or junk such as NUL inside the label
        return None
    # Python's "utf-16"/"utf-32" need a BOM; keep them, the decode below checks.
    return codec


def _looks_utf8(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text


def _guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes  # heavy-ish: only for bytes that need a guess

    best = from_bytes(data).best()
    if best is None:
        return None
    text = str(best)
    return text if "\ufffd" not in text else None


def _byte_fallback(err: UnicodeError) -> tuple[str, int]:
    # A stray byte in otherwise valid text (a Latin-1 character pasted into UTF-8 mail) reads as
    # windows-1252/Latin-1: one odd character instead of U+FFFD.
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", "ignore") or bad.decode("latin-1"), err.end


codecs.register_error("deskintake-bytefallback", _byte_fallback)


def _few_errors(data: bytes, codec: str) -> str | None:
    try:
        loose = data.decode(codec, "replace")
    except LookupError:
        return None
    if loose.count("\ufffd") <= max(2, len(data) // 200):
        return data.decode(codec, "deskintake-bytefallback")
    return None


def decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode body bytes under their declared charset, guessing when it is wrong.

    Returns the text and a defect note when the label was missing or wrong.
    """
    if not data:
        return "", None
    if data.startswith(codecs.BOM_UTF8):
        data, label = data[3:], "utf-8"
    codec = codec_for(label)
    if codec is not None and not codec.startswith("utf") and not data.isascii():
        # Valid UTF-8 with multibyte sequences is almost never an accident of another charset;
        # a legacy label on UTF-8 bytes is the commonest mislabel of all.
        utf8 = _looks_utf8(data)
        if utf8 is not None:
            return utf8, f"charset {label!r} mislabelled: decoded as utf-8"
        if label and label.strip().strip("\"'").lower() in ("us-ascii", "ascii"):
            codec = None  # 8-bit bytes under an ASCII label: the label says nothing
    if codec is not None:
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError):
            pass
        nearly = _few_errors(data, codec)
        if nearly is not None:
            return nearly, f"charset {label!r}: a few undecodable bytes read as latin-1"
    utf8 = _looks_utf8(data)
    if utf8 is not None:
        note = None if codec is None and label is None else f"charset {label!r} failed: utf-8"
        return utf8, note
    if codec is None:
        nearly = _few_errors(data, "utf-8")
        if nearly is not None:
            return nearly, "no charset: utf-8 with a few latin-1 bytes"
    guessed = _guess(data)
    if guessed is not None:
        return guessed, f"charset {label!r} failed: guessed"
    if codec is not None:
        return data.decode(codec, "deskintake-bytefallback"), f"charset {label!r}: bad bytes"
    # cp1252 leaves five bytes undefined; latin-1 decodes everything.
    return data.decode("latin-1"), f"charset {label!r} failed: latin-1"


# --- headers -----------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(
    r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*?)\?=",
)
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_FOLD = re.compile(r"\r?\n[ \t]*")


def _word_bytes(enc: str, payload: str) -> bytes:
    if enc in "bB":
        raw = re.sub(rb"[^A-Za-z0-9+/]", b"", payload.encode("ascii", "ignore"))
        if len(raw) % 4 == 1:
            raw = raw[:-1]  # a lone trailing sextet carries no whole byte
        try:
            return base64.b64decode(raw + b"=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            return b""
    return quopri.decodestring(payload.replace("_", " ").encode("ascii", "ignore"), header=False)


def header_bytes(value: str) -> bytes:
    """The octets of a header value as the stdlib parser stored it (surrogate-escaped 8-bit)."""
    return value.encode("utf-8", "surrogateescape")


def unescape_8bit(value: str, fallback: str | None = None) -> str:
    """Turn raw 8-bit header octets (surrogate-escaped by the email package) into text."""
    return _raw_header_text(value, fallback)


def _raw_header_text(value: str, fallback: str | None) -> str:
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    text, _ = decode_bytes(header_bytes(value), fallback)
    return text


def decode_header(value: object, fallback_charset: str | None = None) -> str:
    """Decode a raw header value: RFC 2047 words (split multibyte characters too) and raw 8-bit."""
    if value is None:
        return ""
    text = str(value)
    text = _FOLD.sub(" ", text)
    text = _raw_header_text(text, fallback_charset)
    if "\x1b" in text:
        # Japanese mailers put raw ISO-2022-JP (escape sequences, 7-bit) straight into headers.
        with contextlib.suppress(UnicodeError, LookupError):
            text = text.encode("latin-1").decode("iso2022_jp_ext")
    if "=?" not in text:
        return text.strip()
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_label: str | None = None

    def flush() -> None:
        nonlocal pending, pending_label
        if pending:
            decoded, _ = decode_bytes(bytes(pending), pending_label)
            out.append(decoded)
        pending = bytearray()
        pending_label = None

    pos = 0
    for m in _ENCODED_WORD.finditer(text):
        gap = text[pos : m.start()]
        # Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
        if gap and not (pending and _BETWEEN_WORDS.fullmatch(gap)):
            flush()
            out.append(gap)
        label = m.group(1).lower()
        if pending and label != pending_label:
            flush()
        pending_label = label
        # Adjacent words in one charset are joined as bytes: mailers split GBK and UTF-8
        # characters across words.
        pending += _word_bytes(m.group(2), m.group(3))
        pos = m.end()
    flush()
    out.append(text[pos:])
    return "".join(out).strip()


def decode_param(value: object, fallback_charset: str | None = None) -> str:
    """Decode a MIME parameter (RFC 2231 tuple from email's get_param, or an RFC 2047 string)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        label, _lang, text = value
        try:
            data = str(text).encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:
            return decode_header(str(text), fallback_charset)
        decoded, _ = decode_bytes(data, label or fallback_charset)
        return decoded.strip()
    return decode_header(str(value), fallback_charset)
