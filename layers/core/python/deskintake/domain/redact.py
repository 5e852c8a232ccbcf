"""Mask card numbers, OTP codes and passwords in customer text before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from deskintake.domain.model import Redaction

__all__ = ["OTP_MASK", "PASSWORD_MASK", "mask", "mask_card_number", "mask_html"]

OTP_MASK = "[OTP]"
PASSWORD_MASK = "[PASSWORD]"
_KINDS = ("card", "otp", "password")

# --- card numbers -----------------------------------------------------------------------------

# Digit groups joined by single spaces, dashes or no-break spaces: "4111 1111 1111 1111",
# "4111-1111-1111-1111", "4111111111111111". Longer runs are split into groups below. Digits glued
# to letters are identifiers, not cards.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z_])[0-9]+(?:[ \-\u00a0][0-9]+)*(?![0-9A-Za-z_])")
_GROUP = re.compile(r"[0-9]+")
# Issuer ranges (IIN) and lengths of the card brands customers here hold: Visa, Mastercard, Amex,
# Diners, JCB, Discover, UnionPay, Maestro. They keep Indonesian phone numbers (08..), dates and
# timestamps (20..), order ids and virtual accounts that happen to pass Luhn.
_CARD_RANGES: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    # (prefix length, low, high, allowed lengths)
    (1, 4, 4, frozenset({13, 16, 19})),  # Visa
    (2, 51, 55, frozenset({16})),  # Mastercard
    (4, 2221, 2720, frozenset({16})),  # Mastercard 2-series
    (2, 34, 34, frozenset({15})),  # Amex
    (2, 37, 37, frozenset({15})),  # Amex
    (2, 36, 36, frozenset({14, 15, 16, 17, 18, 19})),  # Diners
    (3, 300, 305, frozenset({14, 15, 16, 17, 18, 19})),  # Diners
    (2, 38, 39, frozenset({14, 15, 16, 17, 18, 19})),  # Diners
    (4, 3528, 3589, frozenset({16, 17, 18, 19})),  # JCB
    (2, 60, 69, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Discover, UnionPay, Maestro, RuPay
    (2, 50, 50, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro
    (2, 56, 58, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _issuer_ok(digits: str) -> bool:
    n = len(digits)
    return any(
        low <= int(digits[:width]) <= high and n in lengths
        for width, low, high, lengths in _CARD_RANGES
    )


def is_card_number(digits: str, *, luhn: bool = True) -> bool:
    """A 13–19 digit run in a card network's issuer range that (unless told not to) passes Luhn."""
    return 13 <= len(digits) <= 19 and _issuer_ok(digits) and (not luhn or _luhn_ok(digits))


def mask_card_number(digits: str) -> str:
    """Keep the first 6 and last 4 digits of a card number, star the rest."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _card_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for run in _DIGIT_RUN.finditer(text):
        groups = list(_GROUP.finditer(run.group()))
        digits = "".join(g.group() for g in groups)
        if len(digits) < 13:
            continue
        if is_card_number(digits):
            yield run.start(), run.end(), mask_card_number(digits)
            continue
        # A card written next to other numbers ("0812 3456 7890 4111 1111 1111 1111"): look for
        # the longest run of whole groups that is a card, left to right.
        i = 0
        while i < len(groups):
            found = None
            for j in range(len(groups), i, -1):
                cand = "".join(g.group() for g in groups[i:j])
                if is_card_number(cand):
                    found = (j, cand)
                    break
            if found is None:
                i += 1
                continue
            j, cand = found
            yield (
                run.start() + groups[i].start(),
                run.start() + groups[j - 1].end(),
                (mask_card_number(cand)),
            )
            i = j


# --- OTP codes ---------------------------------------------------------------------------------

# Words that name a one-time code. Bare "code"/"kode" is qualified below (postal code, promo
# code and booking code are not secrets). "动态密码" is an OTP, so it is matched before 密码.
_OTP_WORD = (
    r"(?:"
    r"one[\s-]?time[\s-]?(?:password|passcode|code|pin)"
    r"|\bOTP(?:-?nya|\s?nya)?\b|\bTAC\b"
    r"|\b(?:verification|verify|security|authentication|auth|confirmation|login|sign[\s-]?in|"
    r"access|activation|2fa|two[\s-]factor|sms|otp)\s+code\b"
    r"|\bpasscode\b"
    r"|\bkode\s+(?:otp|verifikasi|keamanan|konfirmasi|aktivasi|akses|masuk|login|sms|rahasia|"
    r"unik\s+otp)(?:-?nya)?\b"
    r"|\bkode(?:-?nya)?\b|\bcode\b"
    r"|短信验证码|手机验证码|验证码|驗證碼|动态码|動態碼|动态密码|動態密碼|校验码|校驗碼|确认码|確認碼|安全码"
    r"|认证码|認證碼|激活码"
    r")"
)
# Words in the few characters around a candidate that mean it is not a secret code.
_NOT_OTP_CONTEXT = re.compile(
    r"(?:\b(?:promo|promosi|voucher|vocer|kupon|coupon|diskon|discount|referral|referal|reff?|pos|"
    r"postal|zip|post|area|country|negara|booking|transaksi|trx|pembayaran|bayar|payment|billing|"
    r"bank|error|err|status|order|pesanan|invoice|tagihan|faktur|resi|tracking|produk|product|"
    r"item|barang|referensi|reference|ref|response|http|https|www|hadiah|gift|rekening|va|"
    r"virtual|hp|handphone|telp|telepon|phone|tel|wa|whatsapp|merchant|toko|store|cabang|branch|"
    r"sku|batch|tiket|ticket|antrian|queue|rp|idr|usd|harga|price|amount|jumlah|nominal|total|"
    r"tahun|year|tanggal|date|tgl|jam|pukul|menit|detik|ext|extension)\b"
    r"|订单|訂單|手机号|手機號|电话|電話|金额|金額|元|优惠|優惠|邮编|郵編|邀请|邀請|推荐|推薦)",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"\s*(?:menit|detik|jam|hari|minutes?|mins?|seconds?|secs?|hours?|days?|kali|times|rupiah|"
    r"rp|idr|usd|ribu|rb|juta|jt|x\b|%|元|块|分钟|秒|次|天|小时|年|月|日|号|位)",
    re.IGNORECASE,
)
_CODE_VALUE = r"(?<![0-9A-Za-z])(?:G-)?([0-9]{4,8}|[0-9]{3}[ -][0-9]{3})(?![0-9A-Za-z])"
# Between the word and the code: punctuation, "is", "adalah", 是 and a few filler words, but not
# a sentence end or another number.
_GAP = r"[^0-9\n.!?;。！？；]{0,40}?"
_OTP_BEFORE = re.compile(_OTP_WORD + "(" + _GAP + ")" + _CODE_VALUE, re.IGNORECASE)
_OTP_AFTER = re.compile(
    _CODE_VALUE + r"(\s{0,3}(?:\)|\]|】)?\s{0,3}(?:is|adalah|merupakan|itu|ini|as|="
    r"|是|为|為|:|：|-)?\s{0,3}(?:your|my|the|kode|code|anda|saya|kamu|您的|你的|我的|本次|的)?"
    r"\s{0,3})" + _OTP_WORD,
    re.IGNORECASE,
)
_BARE_CODE_WORD = re.compile(r"^(?:kode(?:-?nya)?|code)$", re.IGNORECASE)


# A bare "code" / "kode" is an OTP only when the sentence around it talks about one.
_OTP_CUE = re.compile(
    r"\b(?:otp|sms|verif\w*|login|log in|sign in|masuk|kirim\w*|dikirim|sent|send|receiv\w*|"
    r"terima|diterima|dapat|jangan|share|bagikan|kasih|kasi|rahasia|secret|one[- ]time|akun|"
    r"account|password|sandi|pin|2fa|auth\w*|expire\w*|berlaku|valid|enter|masukkan|input|"
    r"confirm\w*|konfirmasi|minta|request\w*|whatsapp|wa|telepon|penipu\w*|scam\w*|minta)\b"
    r"|验证|驗證|短信|登录|登錄|密码|密碼",
    re.IGNORECASE,
)


def _otp_context_ok(text: str, word: str, gap: str, before_start: int) -> bool:
    if _NOT_OTP_CONTEXT.search(gap):
        return False
    if _BARE_CODE_WORD.match(word.strip()):
        # "kode pos 12345", "promo code 4821": the word before the bare "code" decides.
        prefix = text[max(0, before_start - 20) : before_start]
        if _NOT_OTP_CONTEXT.search(prefix.split("\n")[-1][-12:]):
            return False
        around = text[max(0, before_start - 80) : before_start + 100]
        if not _OTP_CUE.search(around):
            return False
    return True


# A number right after these is a time, a year or a quantity, not the code.
_TIME_WORD_BEFORE = re.compile(
    r"\b(?:at|on|in|since|until|till|before|after|sejak|pada|sampai|hingga|sebelum|setelah|"
    r"sekitar|around|about)\s*$",
    re.IGNORECASE,
)


def _otp_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _OTP_BEFORE.finditer(text):
        word = text[m.start() : m.start(1)]
        if not _otp_context_ok(text, word, m.group(1), m.start()):
            continue
        if _TIME_WORD_BEFORE.search(m.group(1)):
            continue
        if _UNIT_AFTER.match(text, m.end()):
            continue
        yield m.start(2), m.end(2), OTP_MASK
    for m in _OTP_AFTER.finditer(text):
        word = text[m.end(2) : m.end()]
        before = text[max(0, m.start() - 16) : m.start()].split("\n")[-1]
        if _NOT_OTP_CONTEXT.search(before) or _NOT_OTP_CONTEXT.search(m.group(2)):
            continue
        if not _otp_context_ok(text, word, "", m.end(2)):
            continue
        yield m.start(1), m.end(1), OTP_MASK


# --- passwords ---------------------------------------------------------------------------------

_PW_LATIN = re.compile(
    r"\b(password|passwd|passwort|kata\s?sandi|sandi|kata\s?kunci|pass|pwd|pw|pin)"
    r"(?:-?nya|nya|ku|mu)?\b",
    re.IGNORECASE,
)
# 密码 followed by an ASCII value: "密码是abc123", "密码：Qwerty!1". 动态密码 is an OTP (masked first).
_PW_CJK = re.compile(
    r"(?<!动态)(?<!動態)(?:密码|密碼|口令)((?:\s{0,2}(?:是|为|為|:|：|=)){0,2}\s{0,2})"
    r"(?![\[*])([!-~]+)"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PW_WEAK_WORDS = frozenset({"pass", "pw", "pwd"})
_PW_TOKEN = re.compile(r"[ \t\u00a0]*(\S+)")
_PW_SEP_WORDS = frozenset(
    {"is", "was", "adalah", "yaitu", "yakni", "ialah", "=", "=>", "->", "-", "jadi"}
)
# Possessives and qualifiers that may stand between the word and the value.
_PW_QUALIFIERS = _words(
    """
    account aku akun anda ane aq atm baru card current email gua gue gw ini itu kamu kartu ku
    lama login my new nya old saya sementara sy tadi temp temporary the ur your
    """
)
# Words that follow "password" in ordinary sentences ("password saya lupa", "password is wrong").
_PW_STOPWORDS = _words(
    """
    a again aja already also an and anymore apa at atau bagaimana be been being belum berubah
    bisa blm blokir box bs bukan but by can't cannot change changed changing could dan dari
    deh dengan dgn di diblokir didn't diganti direset diubah does doesn't don't dong engga
    enggak expire expired expires field for forgot forgotten form from ga gak ganti gimana gk
    had harus has have her hilang hint his i in incorrect ingin invalid isn't it its jd jg
    juga just kadaluarsa kan ke keep keeps kena kenapa knp kok lagi length lg link lupa mana
    manager masih mau me minta mohon msh ngga nggak nih no not of ok oke on or our page pengen
    perlu pernah please policy protected recovery reminder request required requirements reset
    resetting rules saja salah sama same screen sdh selalu sering should sih still strength
    sudah tapi tdk terblokir terus that their they this tidak tlg to tolong too tp trs twice
    ubah udah udh untuk utk wasn't we will with won't would wrong ya yah yang yes yg you
    """
)
# "!" and "?" stay: they are as likely part of the password as the end of the sentence.
_TRAILING_PUNCT = ".,;:)]}'\"，。；：！？、）》」"
_QUOTES = "'\"`‘’“”"


def _looks_like_secret(value: str) -> bool:
    return (
        any(c.isdigit() for c in value)
        or any(not c.isalnum() for c in value)
        or (value != value.lower() and value != value.upper() and value[1:] != value[1:].lower())
    )


def _password_value(text: str, pos: int, word: str) -> tuple[int, int] | None:
    """Find the value after a password word: "password saya: x", "pass sy abc123", "PIN 1234"."""
    seen_sep = seen_qual = seen_stop = False
    for _ in range(6):
        m = _PW_TOKEN.match(text, pos)
        if m is None:
            return None
        token, start = m.group(1), m.start(1)
        pos = m.end()
        while token and token[0] in ":：=":
            seen_sep, token, start = True, token[1:], start + 1
        if not token:
            continue
        low = token.lower()
        bare = low.rstrip(",.;:：")
        clause_ends = bare != low and not low.endswith((":", "："))
        if low.endswith((":", "：")) and (bare in _PW_QUALIFIERS or bare in _PW_SEP_WORDS):
            seen_sep = seen_qual = True
            continue
        if bare in _PW_SEP_WORDS:
            seen_sep = True
            continue
        if bare in _PW_QUALIFIERS or bare in _PW_STOPWORDS:
            seen_qual = seen_qual or bare in _PW_QUALIFIERS
            seen_stop = seen_stop or bare in _PW_STOPWORDS
            if clause_ends:
                return None
            continue
        value = token.rstrip(_TRAILING_PUNCT)
        lead = len(value) - len(value.lstrip(_QUOTES))
        value = value.strip(_QUOTES)
        start += lead
        if not value or value[0] in "[*":
            return None
        if word.startswith("pin"):
            ok = re.fullmatch(r"[0-9]{4,8}", value) is not None
        elif seen_stop or not seen_sep:
            # "pass 5 hours", "boarding pass 12A": the short words need "saya" / ":" first.
            ok = (
                len(value) >= 4
                and _looks_like_secret(value)
                and (word not in _PW_WEAK_WORDS or seen_qual or seen_sep)
            )
        else:
            ok = True
        return (start, start + len(value)) if ok else None
    return None


def _password_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _PW_LATIN.finditer(text):
        found = _password_value(text, m.end(), m.group(1).lower())
        if found is not None:
            yield found[0], found[1], PASSWORD_MASK
    for m in _PW_CJK.finditer(text):
        end = m.start(2) + len(m.group(2).rstrip(_TRAILING_PUNCT))
        if end > m.start(2):
            yield m.start(2), end, PASSWORD_MASK


# --- applying the passes ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Pass:
    kind: str
    find: Callable[[str], Iterator[tuple[int, int, str]]]


_PASSES = (_Pass("card", _card_spans), _Pass("otp", _otp_spans), _Pass("password", _password_spans))


def _non_overlapping(spans: Iterator[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if chosen and span[0] < chosen[-1][1]:
            continue
        chosen.append(span)
    return chosen


def _apply(text: str, spans: list[tuple[int, int, str]], keep: Callable[[str], str]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, repl in spans:
        out.append(text[pos:start])
        out.append(repl + keep(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _counts_to_redactions(counts: dict[str, int]) -> list[Redaction]:
    return [Redaction(kind=k, count=counts[k]) for k in _KINDS if counts.get(k)]


def mask(text: str) -> tuple[str, list[Redaction]]:
    """Mask card numbers, OTP codes and passwords; return the text and counts per kind."""
    counts: dict[str, int] = {}
    for p in _PASSES:
        spans = _non_overlapping(p.find(text))
        if spans:
            counts[p.kind] = len(spans)
            text = _apply(text, spans, lambda _s: "")
    return text, _counts_to_redactions(counts)


_TAG = re.compile(r"<[^>]*>|&nbsp;|&#160;|&#xa0;", re.IGNORECASE)


def _text_view(html: str) -> str:
    # Tags become spaces of the same length, so offsets in the view are offsets in the HTML and
    # "<b>OTP</b>: 123456" reads as "   OTP    : 123456".
    return _TAG.sub(lambda m: " " * len(m.group()), html)


def _tags_inside(fragment: str) -> str:
    return "".join(m.group() for m in _TAG.finditer(fragment) if m.group().startswith("<"))


def mask_html(html: str) -> tuple[str, list[Redaction]]:
    """Mask an HTML body the way `mask` masks text, leaving the markup intact."""
    counts: dict[str, int] = {}
    for p in _PASSES:
        spans = _non_overlapping(p.find(_text_view(html)))
        if spans:
            counts[p.kind] = len(spans)
            html = _apply(html, spans, _tags_inside)
    return html, _counts_to_redactions(counts)
