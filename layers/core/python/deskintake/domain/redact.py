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
# "4111-1111-1111-1111", "4111111111111111". Longer runs are split into groups below.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ \-\u00a0][0-9]+)*(?![0-9])")
_GROUP = re.compile(r"[0-9]+")
# Issuer prefixes 2-6 cover Visa, Mastercard, Amex, Diners, JCB, Discover and UnionPay; it keeps
# Indonesian phone numbers (08..), order ids and virtual accounts that happen to pass Luhn.
_CARD_FIRST_DIGITS = frozenset("23456")


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


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and _luhn_ok(digits)


def mask_card_number(digits: str) -> str:
    """Keep the first 6 and last 4 digits of a card number, star the rest."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _card_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for run in _DIGIT_RUN.finditer(text):
        groups = list(_GROUP.finditer(run.group()))
        digits = "".join(g.group() for g in groups)
        if len(digits) < 13:
            continue
        if _is_card(digits):
            yield run.start(), run.end(), mask_card_number(digits)
            continue
        # A card written next to other numbers ("0812 3456 7890 4111 1111 1111 1111"): look for
        # the longest run of whole groups that is a card, left to right.
        i = 0
        while i < len(groups):
            found = None
            for j in range(len(groups), i, -1):
                cand = "".join(g.group() for g in groups[i:j])
                if _is_card(cand):
                    found = (j, cand)
                    break
            if found is None:
                i += 1
                continue
            j, cand = found
            yield run.start() + groups[i].start(), run.start() + groups[j - 1].end(), (
                mask_card_number(cand)
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
    _CODE_VALUE
    + r"(\s{0,3}(?:\)|\]|】)?\s{0,3}(?:is|adalah|merupakan|itu|ini|as|="
    r"|是|为|為|:|：|-)?\s{0,3}(?:your|my|the|kode|code|anda|saya|kamu|您的|你的|我的|本次|的)?"
    r"\s{0,3})" + _OTP_WORD,
    re.IGNORECASE,
)
_BARE_CODE_WORD = re.compile(r"^(?:kode(?:-?nya)?|code)$", re.IGNORECASE)


def _otp_context_ok(text: str, word: str, gap: str, before_start: int) -> bool:
    if _NOT_OTP_CONTEXT.search(gap):
        return False
    if _BARE_CODE_WORD.match(word.strip()):
        # "kode pos 12345", "promo code 4821": the word before the bare "code" decides.
        prefix = text[max(0, before_start - 20) : before_start]
        if _NOT_OTP_CONTEXT.search(prefix.split("\n")[-1][-12:]):
            return False
    return True


def _otp_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _OTP_BEFORE.finditer(text):
        word = text[m.start() : m.start(1)]
        if not _otp_context_ok(text, word, m.group(1), m.start()):
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

_PW_WORD = (
    r"(?:\b(?:password|passwd|passwort|kata\s?sandi|sandi|kata\s?kunci|pass|pwd|pw|pin)"
    r"(?:-?nya|\s?nya|ku|mu)?\b"
    r"|(?<!动态)(?<!動態)(?:密码|密碼)|口令)"
)
# Possessives and qualifiers that may stand between the word and the value.
_PW_QUALIFIER = (
    r"(?:saya|sy|aku|aq|ku|gw|gue|gua|ane|anda|kamu|baru|lama|sementara|akun|account|login|"
    r"email|my|new|old|current|temporary|temp|is|adalah|yaitu|yakni|itu|ini|tadi|nya|"
    r"我的|新的|新|旧的|旧|原|登录|登陆|登錄|账户|賬戶|账号|賬號|的)"
)
_PW_SEP = r"(?:[:：=]|\bis\b|\badalah\b|\byaitu\b|\byakni\b|是|为|為|:)"
_PW_VALUE = r"(?![\[*])([!-~\u00a1-\u024f]+)"
_PASSWORD = re.compile(
    _PW_WORD
    + r"((?:\s{0,3}"
    + _PW_QUALIFIER
    + r"(?![A-Za-z])){0,3}\s{0,3}(?:"
    + _PW_SEP
    + r"\s{0,3}(?:"
    + _PW_SEP
    + r"\s{0,3})?)?)"
    + _PW_VALUE,
    re.IGNORECASE,
)
# Words that follow "password" in ordinary sentences ("password saya lupa", "password is wrong").
_PW_STOPWORDS = frozenset(
    """
    lupa salah tidak tdk gak ga gk nggak ngga enggak engga bukan sudah udah udh sdh blm belum diganti
    ganti diubah ubah berubah terus trs kok yang yg di ke dari dan atau tapi tp juga jg sama dengan
    dgn untuk utk kenapa knp gimana bagaimana apa mana hilang terblokir diblokir blokir kadaluarsa
    expired reset direset minta mohon tolong tlg bisa bs masih msh lagi lg aja saja sih dong deh ya
    yah nih kan jadi jd baru lama ok oke kena sering selalu pernah mau ingin pengen perlu harus
    and or but not is was are be been being the a an to for of in on at by with from my your our
    their his her its this that it i you we they me wrong incorrect invalid forgot forgotten
    change changed changing reset resetting expired expire expires keeps keep doesn't does don't
    didn't isn't wasn't can't cannot won't will would should could has have had no yes please
    field box manager policy protected required requirements request link page screen form
    recovery reminder hint strength length rules twice again same anymore too also
    """.split()
)
# "!" and "?" stay: they are as likely part of the password as the end of the sentence.
_TRAILING_PUNCT = ".,;:)]}'\"，。；：！？、）》」"


def _looks_like_secret(value: str) -> bool:
    return any(c.isdigit() for c in value) or any(not c.isalnum() for c in value) or (
        value != value.lower() and value != value.upper() and value[1:] != value[1:].lower()
    )


def _password_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _PASSWORD.finditer(text):
        value = m.group(2)
        end = m.start(2) + len(value.rstrip(_TRAILING_PUNCT))
        value = text[m.start(2) : end]
        if not value or value.lower() in _PW_STOPWORDS:
            continue
        word = text[m.start() : m.start(1)].strip().lower()
        between = m.group(1)
        has_sep = re.search(_PW_SEP, between, re.IGNORECASE) is not None
        if word.startswith("pin"):
            # A PIN is digits; "PIN ATM" or "pin lokasi" is not a secret.
            if not re.fullmatch(r"[0-9]{4,8}", value):
                continue
        elif not has_sep:
            if word in ("pass", "pw", "pwd") and not between.strip():
                continue  # "pass 5 hours", "boarding pass 12A": too weak alone
            if not _looks_like_secret(value):
                continue
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
