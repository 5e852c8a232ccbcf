"""Pull the facts support needs out of a message: ids, amounts, phones, products, card ends, time."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from deskintake.domain.redact import is_card_number

__all__ = ["extract_entities"]


def _lazy(pattern: str) -> Callable[[], re.Pattern[str]]:
    """A pattern compiled on first use: compiling all of them cost ~7 ms of every cold start,
    and the gates in extract_entities skip the ones a message cannot match."""
    return functools.cache(lambda: re.compile(pattern))



_ORDER_KEYED = _lazy(
    r"(?<![A-Za-z])(?:order(?:\s*id)?|id\s*order|pesanan|transaksi|trx|invoice|inv|ref(?:erence)?|"
    r"no\.?\s*(?:order|transaksi|pesanan|ref|invoice)|nomor\s*(?:order|transaksi|pesanan)|"
    r"transaction(?:\s*id)?|订单号?|交易号|流水号|单号)"
    r"\s*(?:no\.?|number|nomor|id|#)?\s*[:：#=]?\s*#?([a-z0-9][a-z0-9_-]{4,30})",
)
# Ids that carry their own shape: "INV-230914-88213", "TRX9920183", "#SP-2291834", "#5512399".
_ORDER_SHAPED = _lazy(
    r"(?<![\w#])#?((?:[A-Z]{2,6}[-_]?)\d{5,}(?:[-_]\d+)*)\b|(?<!\w)#(\d{5,})\b"
)

_PHONE = _lazy(
    r"(?<![\d*])(?:\+?62[\s-]?8\d{1,3}|08\d{1,3})(?:[\s-]?\d{3,4}){2,3}(?!\d)"
    r"|(?<![\d*])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"
)

_MASKED_CARD = _lazy(r"(?<!\d)(\d{4})[ -]?(\d{2})[\d*x•· -]{4,12}?(\d{4})(?!\d)")
_FULL_CARD = _lazy(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_FIRST6 = _lazy(
    r"(?:6\s*digit\s*(?:awal|pertama|depan)|first\s*(?:6|six)(?:\s*digits?)?|前\s*(?:6|六)\s*位)"
    r"\D{0,12}?(\d{6})(?!\d)",
)
_LAST4 = _lazy(
    r"(?:4\s*digit\s*(?:akhir|terakhir|belakang)|akhiran|berakhiran|last\s*(?:4|four)(?:\s*digits?)?|"
    r"ending\s*(?:in|with)|ends\s*(?:in|with)|后\s*(?:4|四)\s*位|尾号)\D{0,12}?(\d{4})(?!\d)",
)

_AMOUNT = _lazy(
    r"(?P<pre>rp\.?|idr|rmb|cny|usd|us\$|\$|¥|￥)\s?(?P<num>\d[\d.,]*)\s?(?P<suf>rb|ribu|k|jt|juta)?\b"
    r"|(?<![\dA-Za-z.,])(?P<num2>\d[\d.,]*)\s?(?P<suf2>rb|ribu|k|jt|juta|元|块|塊|rmb|idr|usd|dollars?|rupiah)(?![a-z])",
)

# (product, substrings of which one occurs in every match (a cheap gate), pattern)
_PRODUCTS = (
    (
        "paket_data",
        ("paket", "kuota", "data", "流量"),
        _lazy(r"paket\s*data|kuota|data\s*package|data\s*plan|流量包?"),
    ),
    (
        "token_listrik",
        ("token", "pln", "listrik", "electricity", "电费"),
        _lazy(
            r"token\s*(?:pln|listrik)|pln\s*(?:prabayar|token)|listrik\s*prabayar|electricity\s*token|电费"
        ),
    ),
    (
        "pulsa",
        ("pulsa", "credit", "airtime", "话费"),
        _lazy(r"\bpulsa\b|\bcredit\s*top[- ]?up\b|\bairtime\b|话费"),
    ),
    (
        "voucher_game",
        ("voucher", "diamond", "pubg", "游戏点卡"),
        _lazy(
            r"voucher\s*(?:game|gim)|\bdiamond\s*(?:ml|ff)|\buc\s*pubg\b|game\s*voucher|游戏点卡"
        ),
    ),
    (
        "e_wallet",
        ("ovo", "gopay", "go-pay", "dana", "shopee", "linkaja", "wallet", "dompet", "支付宝", "微信支付"),
        _lazy(
            r"\b(?:ovo|gopay|go-pay|dana|shopeepay|shopee\s*pay|linkaja|e-?wallet|dompet\s*digital)\b|支付宝|微信支付"
        ),
    ),
)
_WALLET_GATE = ("ovo", "gopay", "go-pay", "dana", "shopee", "linkaja")
_TIME_WORDS = ("jam", "pukul", "pkl", "at", "around", "about", "sekitar", "approx")
_DIGIT_RUN = _lazy(r"\d+")
_WALLETS = _lazy(r"\b(ovo|gopay|go-pay|dana|shopeepay|shopee\s*pay|linkaja)\b")
_WALLET_NAMES = {
    "ovo": "OVO",
    "gopay": "GoPay",
    "go-pay": "GoPay",
    "dana": "DANA",
    "shopeepay": "ShopeePay",
    "linkaja": "LinkAja",
}

_TIME_KEYED = _lazy(
    r"(?:jam|pukul|pkl|at|around|about|sekitar|approx\.?)\s*(\d{1,2})(?:[.:](\d{2}))?\s*"
    r"(am|pm|a\.m\.|p\.m\.|pagi|siang|sore|malam|wib|wita|wit)?",
)
_TIME_BARE = _lazy(r"(?<![\d.:])(\d{1,2})[:](\d{2})(?![\d:])\s*(am|pm)?")
_ZH_NUM = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_TIME_ZH = _lazy(
    r"(上午|早上|早晨|凌晨|中午|下午|晚上|傍晚)?\s*([\d一二两三四五六七八九十]{1,3})\s*[点點时時](?:\s*(半|[\d一二三四五六七八九十]{1,3})\s*分?)?"
)


def _zh_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s.startswith("十"):
        return 10 + (_ZH_NUM.get(s[1:], 0) if len(s) > 1 else 0)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return _ZH_NUM.get(tens, 0) * 10 + (_ZH_NUM.get(ones, 0) if ones else 0)
    return _ZH_NUM.get(s, -1)


def _hhmm(hour: int, minute: int, marker: str | None) -> str | None:
    m = (marker or "").lower().replace(".", "")
    if (
        m in ("pm", "sore", "malam", "下午", "晚上", "傍晚")
        and hour < 12
        or m == "siang"
        and hour < 6
        or m == "中午"
        and hour < 6
    ):
        hour += 12
    elif m in ("am", "凌晨", "上午", "早上", "早晨") and hour == 12:
        hour = 0
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return f"{hour:02d}:{minute:02d}"
    return None


def _payment_time(text: str, has_digit: bool) -> str | None:
    keyed = has_digit and any(w in text for w in _TIME_WORDS)
    for m in _TIME_KEYED().finditer(text) if keyed else ():
        # "at 5" without minutes or a marker is too often something else ("at 5 stores").
        if (
            m.group(2) is None
            and m.group(3) is None
            and m.group(0).lower().startswith(("at", "around", "about"))
        ):
            continue
        found = _hhmm(int(m.group(1)), int(m.group(2) or 0), m.group(3))
        if found:
            return found
    zh = any(c in text for c in "点點时時")
    for m in _TIME_ZH().finditer(text) if zh else ():
        minute = m.group(3)
        mins = 30 if minute == "半" else (_zh_int(minute) if minute else 0)
        found = _hhmm(_zh_int(m.group(2)), mins, m.group(1))
        if found:
            return found
    for m in _TIME_BARE().finditer(text) if has_digit and ":" in text else ():
        found = _hhmm(int(m.group(1)), int(m.group(2)), m.group(3))
        if found:
            return found
    return None


def _number(raw: str, suffix: str, currency: str) -> float | None:
    raw = raw.rstrip(".,")
    if not raw:
        return None
    if currency == "IDR" or suffix in ("rb", "ribu", "jt", "juta"):
        # Indonesian writes 50.000 and 1,5jt: dots group thousands, a comma is the decimal mark.
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
            raw = raw.replace(",", "")
        raw = raw.replace(".", "").replace(",", ".")
    else:
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
            raw = raw.replace(".", "")
        raw = raw.replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value * {"rb": 1e3, "ribu": 1e3, "k": 1e3, "jt": 1e6, "juta": 1e6}.get(suffix, 1)


def _amounts(low: str, text: str, lang: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in _AMOUNT().finditer(low):
        pre = (m.group("pre") or "").lower().rstrip(".")
        suf = (m.group("suf") or m.group("suf2") or "").lower()
        num = m.group("num") or m.group("num2")
        if pre in ("rp", "idr") or suf in ("rb", "ribu", "jt", "juta", "idr", "rupiah"):
            currency = "IDR"
        elif pre in ("rmb", "cny", "¥", "￥") or suf in ("元", "块", "塊", "rmb"):
            currency = "CNY"
        elif pre in ("usd", "us$", "$") or suf.startswith("dollar") or suf == "usd":
            currency = "USD"
        else:  # bare "50k": rupiah in Indonesian chat, otherwise unknown
            currency = "IDR" if lang == "id" else ""
        if suf in ("idr", "rupiah", "元", "块", "塊", "rmb", "usd", "dollar", "dollars"):
            suf = ""
        value = _number(num, suf, currency)
        if value is None or not currency:
            continue
        out.append(
            {
                "amount": int(value) if value.is_integer() else value,
                "currency": currency,
                "text": text[m.start() : m.end()].strip(),
            }
        )
    return out


def _card(text: str, total: int, longest: int) -> dict[str, str]:
    # Gates from the digits the patterns need: a masked card shows 4+2 and 4 digits, a full one 13.
    card: dict[str, str] = {}
    m = _MASKED_CARD().search(text) if total >= 10 and longest >= 4 else None
    if m and re.search(r"[*x•·]", m.group(0)):
        card = {"first6": m.group(1) + m.group(2), "last4": m.group(3)}
    else:
        for full in _FULL_CARD().finditer(text) if total >= 13 else ():
            digits = re.sub(r"\D", "", full.group(0))
            if is_card_number(digits, luhn=False):  # a mistyped card is still the card
                # Only the ends are kept: support never needs (or stores) the full number.
                card = {"first6": digits[:6], "last4": digits[-4:]}
                break
    if "first6" not in card and longest >= 6 and (f6 := _FIRST6().search(text)):
        card["first6"] = f6.group(1)
    if "last4" not in card and longest >= 4 and (l4 := _LAST4().search(text)):
        card["last4"] = l4.group(1)
    return card


def _phone(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("0"):
        return "+62" + digits[1:]
    if digits.startswith(("62", "86")):
        return "+" + digits
    return "+86" + digits  # a bare Chinese mobile number


def extract_entities(text: str, lang: str) -> dict[str, Any]:
    """Return order ids, amounts, phones, product kinds, card first-6/last-4 and payment time."""
    text = unicodedata.normalize("NFKC", text)
    # Patterns are written lower-case and run on a lower-cased copy (case-insensitive regexes are
    # slow to compile); ids are then sliced from the original, where lower() kept the length.
    low = text.lower()
    if len(low) != len(text):
        low = text
    entities: dict[str, Any] = {}
    # Most patterns need digits: their counts decide which patterns are worth compiling and running.
    runs = _DIGIT_RUN().findall(low)
    total, longest = sum(map(len, runs)), max(map(len, runs), default=0)
    phones = (  # the shortest phone, 08x + 2x3 digits, has 9
        list(dict.fromkeys(_phone(m.group(0)) for m in _PHONE().finditer(low)))
        if total >= 9
        else []
    )
    phone_digits = {p.lstrip("+") for p in phones}

    ids: list[str] = []
    for m in _ORDER_KEYED().finditer(low) if total >= 4 else ():
        cand = text[m.start(1) : m.end(1)]
        if sum(ch.isdigit() for ch in cand) >= 4:
            ids.append(cand)
    for m in _ORDER_SHAPED().finditer(text) if longest >= 5 else ():
        ids.append(m.group(1) or m.group(2))
    unique = list(dict.fromkeys(ids))
    ids = [
        i
        for i in unique
        if not any(i != j and i in j for j in unique)
        if not any(i.lstrip("0") and p.endswith(i.lstrip("0")) for p in phone_digits)
        and not re.fullmatch(r"\d{13,19}", i)
    ]
    if ids:
        entities["order_ids"] = ids
    if total and (amounts := _amounts(low, text, lang)):
        entities["amounts"] = amounts
    if phones:
        entities["phones"] = phones
    if products := [
        name for name, gate, rx in _PRODUCTS if any(g in low for g in gate) and rx().search(low)
    ]:
        entities["products"] = products
    if wallets := list(
        dict.fromkeys(
            _WALLET_NAMES[re.sub(r"\s", "", w)]
            for w in (_WALLETS().findall(low) if any(g in low for g in _WALLET_GATE) else ())
        )
    ):
        entities["e_wallets"] = wallets
    if card := _card(low, total, longest):
        entities["card"] = card
    if when := _payment_time(low, total > 0):
        entities["payment_time"] = when
    return entities
