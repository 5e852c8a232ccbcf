"""Pull the facts support needs out of a message: ids, amounts, phones, products, card ends, time."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["extract_entities"]


_ORDER_KEYED = re.compile(
    r"(?<![A-Za-z])(?:order(?:\s*id)?|id\s*order|pesanan|transaksi|trx|invoice|inv|ref(?:erence)?|"
    r"no\.?\s*(?:order|transaksi|pesanan|ref|invoice)|nomor\s*(?:order|transaksi|pesanan)|"
    r"transaction(?:\s*id)?|订单号?|交易号|流水号|单号)"
    r"\s*(?:no\.?|number|nomor|id|#)?\s*[:：#=]?\s*#?([a-z0-9][a-z0-9_-]{4,30})",
)
# Ids that carry their own shape: "INV-230914-88213", "TRX9920183", "#SP-2291834", "#5512399".
_ORDER_SHAPED = re.compile(
    r"(?<![\w#])#?((?:[A-Z]{2,6}[-_]?)\d{5,}(?:[-_]\d+)*)\b|(?<!\w)#(\d{5,})\b"
)

_PHONE = re.compile(
    r"(?<![\d*])(?:\+?62[\s-]?8\d{1,3}|08\d{1,3})(?:[\s-]?\d{3,4}){2,3}(?!\d)"
    r"|(?<![\d*])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"
)

_MASKED_CARD = re.compile(r"(?<!\d)(\d{4})[ -]?(\d{2})[\d*x•· -]{4,12}?(\d{4})(?!\d)")
_FULL_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_FIRST6 = re.compile(
    r"(?:6\s*digit\s*(?:awal|pertama|depan)|first\s*(?:6|six)(?:\s*digits?)?|前\s*(?:6|六)\s*位)"
    r"\D{0,12}?(\d{6})(?!\d)",
)
_LAST4 = re.compile(
    r"(?:4\s*digit\s*(?:akhir|terakhir|belakang)|akhiran|berakhiran|last\s*(?:4|four)(?:\s*digits?)?|"
    r"ending\s*(?:in|with)|ends\s*(?:in|with)|后\s*(?:4|四)\s*位|尾号)\D{0,12}?(\d{4})(?!\d)",
)

_AMOUNT = re.compile(
    r"(?P<pre>rp\.?|idr|rmb|cny|usd|us\$|\$|¥|￥)\s?(?P<num>\d[\d.,]*)\s?(?P<suf>rb|ribu|k|jt|juta)?\b"
    r"|(?<![\dA-Za-z.,])(?P<num2>\d[\d.,]*)\s?(?P<suf2>rb|ribu|k|jt|juta|元|块|塊|rmb|idr|usd|dollars?|rupiah)(?![a-z])",
)

_PRODUCTS = (
    ("paket_data", re.compile(r"paket\s*data|kuota|data\s*package|data\s*plan|流量包?")),
    (
        "token_listrik",
        re.compile(
            r"token\s*(?:pln|listrik)|pln\s*(?:prabayar|token)|listrik\s*prabayar|electricity\s*token|电费"
        ),
    ),
    ("pulsa", re.compile(r"\bpulsa\b|\bcredit\s*top[- ]?up\b|\bairtime\b|话费")),
    (
        "voucher_game",
        re.compile(
            r"voucher\s*(?:game|gim)|\bdiamond\s*(?:ml|ff)|\buc\s*pubg\b|game\s*voucher|游戏点卡"
        ),
    ),
    (
        "e_wallet",
        re.compile(
            r"\b(?:ovo|gopay|go-pay|dana|shopeepay|shopee\s*pay|linkaja|e-?wallet|dompet\s*digital)\b|支付宝|微信支付"
        ),
    ),
)
_WALLETS = re.compile(r"\b(ovo|gopay|go-pay|dana|shopeepay|shopee\s*pay|linkaja)\b")
_WALLET_NAMES = {
    "ovo": "OVO",
    "gopay": "GoPay",
    "go-pay": "GoPay",
    "dana": "DANA",
    "shopeepay": "ShopeePay",
    "linkaja": "LinkAja",
}

_TIME_KEYED = re.compile(
    r"(?:jam|pukul|pkl|at|around|about|sekitar|approx\.?)\s*(\d{1,2})(?:[.:](\d{2}))?\s*"
    r"(am|pm|a\.m\.|p\.m\.|pagi|siang|sore|malam|wib|wita|wit)?",
)
_TIME_BARE = re.compile(r"(?<![\d.:])(\d{1,2})[:](\d{2})(?![\d:])\s*(am|pm)?")
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
_TIME_ZH = re.compile(
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


def _payment_time(text: str) -> str | None:
    for m in _TIME_KEYED.finditer(text):
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
    for m in _TIME_ZH.finditer(text):
        minute = m.group(3)
        mins = 30 if minute == "半" else (_zh_int(minute) if minute else 0)
        found = _hhmm(_zh_int(m.group(2)), mins, m.group(1))
        if found:
            return found
    for m in _TIME_BARE.finditer(text):
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
    for m in _AMOUNT.finditer(low):
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


def _card(text: str) -> dict[str, str]:
    card: dict[str, str] = {}
    m = _MASKED_CARD.search(text)
    if m and re.search(r"[*x•·]", m.group(0)):
        card = {"first6": m.group(1) + m.group(2), "last4": m.group(3)}
    else:
        for full in _FULL_CARD.finditer(text):
            digits = re.sub(r"\D", "", full.group(0))
            if 13 <= len(digits) <= 19 and not digits.startswith(("08", "62", "86")):
                # Only the ends are kept: support never needs (or stores) the full number.
                card = {"first6": digits[:6], "last4": digits[-4:]}
                break
    if "first6" not in card and (f6 := _FIRST6.search(text)):
        card["first6"] = f6.group(1)
    if "last4" not in card and (l4 := _LAST4.search(text)):
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
    phones = list(dict.fromkeys(_phone(m.group(0)) for m in _PHONE.finditer(low)))
    phone_digits = {p.lstrip("+") for p in phones}

    ids: list[str] = []
    for m in _ORDER_KEYED.finditer(low):
        cand = text[m.start(1) : m.end(1)]
        if sum(ch.isdigit() for ch in cand) >= 4:
            ids.append(cand)
    for m in _ORDER_SHAPED.finditer(text):
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
    if amounts := _amounts(low, text, lang):
        entities["amounts"] = amounts
    if phones:
        entities["phones"] = phones
    if products := [name for name, rx in _PRODUCTS if rx.search(low)]:
        entities["products"] = products
    if wallets := list(
        dict.fromkeys(_WALLET_NAMES[re.sub(r"\s", "", w)] for w in _WALLETS.findall(low))
    ):
        entities["e_wallets"] = wallets
    if card := _card(low):
        entities["card"] = card
    if when := _payment_time(low):
        entities["payment_time"] = when
    return entities
