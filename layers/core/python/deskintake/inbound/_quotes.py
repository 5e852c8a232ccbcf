"""Find the customer's new text in a reply: cut quoted history, drop the sign-off at the end.

Header patterns follow the fixtures of crisp-oss/email-reply-parser and alfonsrv/mail-parser-reply
(both MIT), extended with Indonesian and Chinese mail clients. That library cuts everything after
any "Thanks," line and has no Indonesian, so the rules live here, line-based and anchored.
"""

from __future__ import annotations

import re

# "On <date>, <name> wrote:" in the languages customers and their mail clients use. Matched
# against one line or up to four lines joined, because clients wrap long attributions.
_ATTRIBUTION = re.compile(
    r"^(?:>\s?)*[-\s]*(?:"
    r"On\s.{3,300}?\bwrote\s*:?"  # English (Gmail, Apple Mail, Thunderbird)
    r"|On\s.{3,300}?\bwrote\s*-+"  # Zoho: ---- On ... wrote ----
    r"|Pada\s.{3,300}?\bmenulis\s*:?"  # Indonesian Gmail / Android
    r"|.{0,300}?(?:在|於|于).{0,200}?(?:写道|寫道)\s*[:：]?"  # Chinese: 在 <date> <name> 写道：
    r"|.{0,200}?\d.{0,200}?(?:写道|寫道)\s*[:：]"  # 2026年2月29日 ... 写道：
    r"|Am\s.{3,300}?\bschrieb\s.{0,200}:"  # German
    r"|.{3,300}?\bschrieb\s*:"
    r"|Le\s.{3,300}?\ba\s+[ée]crit\s*:"  # French
    r"|.{3,300}?\ba\s+[ée]crit\s*:"
    r"|El\s.{3,300}?\bescribi[óo]\s*:"  # Spanish
    r"|Em\s.{3,300}?\bescreveu\s*:"  # Portuguese
    r"|Il\s.{3,300}?\bha\s+scritto\s*:"  # Italian
    r"|Op\s.{3,300}?\bschreef\s.{0,200}:"  # Dutch
    r"|.{3,300}?\b(?:skrev|kirjoitti|napisał\(a\)|napisał|napisala|írta|пишет|написал\(а\)|написал)"
    r"\s*.{0,200}:"
    r"|.{0,200}?\d.{0,200}?<[^<>\s]+@[^<>]+>\s*:"  # "<date> <name> <addr>:" (Japanese, Russian)
    r")\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_HINT = re.compile(
    r"wrote|menulis|写道|寫道|schrieb|crit|escribi|escreveu|scritto|schreef|skrev|kirjoitti"
    r"|napisa|írta|пишет|написал|@.*>\s*:?\s*$|>\s*:\s*$",
    re.IGNORECASE,
)
# Separator lines that open the quoted or forwarded message.
_SEPARATOR = re.compile(
    r"^\s*(?:>\s?)*(?:"
    r"[-=_ ]{2,}\s*(?:Original Message|Original-Nachricht|Ursprüngliche Nachricht|Message d'origine"
    r"|Mensaje original|Mensagem original|Messaggio originale|Oorspronkelijk bericht"
    r"|Originalmeddelande|Oprindelig besked|Opprinnelig melding|Alkuperäinen viesti"
    r"|Wiadomość oryginalna|Pesan Asli|Pesan asli|Pesan Awal|Forwarded message|Forwarded Message"
    r"|Weitergeleitete Nachricht|Message transféré|Pesan yang diteruskan|Pesan Terusan"
    r"|原始邮件|原始郵件|原邮件|转发邮件|轉寄郵件|Исходное сообщение|Пересылаемое сообщение)"
    r"\s*[-=_ ]{2,}"
    r"|_{10,}|-{20,}|—{8,}\s*原始邮件\s*—*"
    r"|Begin forwarded message:|Début du message réexpédié\s*:"
    # Help desks (ours included) mark where the customer should type.
    r"|.{0,40}(?:reply|write|type) (?:above|over) this line.{0,40}"
    r"|.{0,40}balas(?:an)? di atas (?:garis|baris) ini.{0,40}|.{0,20}请在此行(?:以上|上方)回复.{0,20}"
    r")\s*$",
    re.IGNORECASE,
)
# The first line of a header block that mail clients write above quoted history.
_FROM_KEY = (
    r"From|Von|De|Van|Från|Fra|Od|Dari|Da|Lähettäjä|Feladó|От|Från|发件人|發件人|寄件者|寄件人"
    r"|差出人|보낸 사람"
)
_OTHER_KEY = (
    r"Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé(?: le)?|Date d'envoi|À|Objet|"
    r"Enviado(?: el)?|Fecha|Para|Asunto|Assunto|Tanggal|Kepada|Subjek|Perihal|Dikirim|Terkirim|"
    r"发送时间|發送時間|日期|时间|時間|收件人|收件者|主题|主題|主旨|抄送|副本|Wysłano|Temat|Do|Skickat|"
    r"Till|Ämne|Sendt|Til|Emne|Dato|Verzonden|Aan|Onderwerp|Inviato|Oggetto|A|Data|Отправлено|"
    r"Кому|Тема|Дата|Lähetetty|Vastaanottaja|Aihe|Elküldve|Címzett|Tárgy|送信日時|宛先|件名"
)
_FROM_LINE = re.compile(r"^\s*(?:>\s?)*\**\s*(?:" + _FROM_KEY + r")\s*\**\s*[:：]", re.IGNORECASE)
_OTHER_LINE = re.compile(r"^\s*(?:>\s?)*\**\s*(?:" + _OTHER_KEY + r")\s*\**\s*[:：]", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>")

# Signatures and sign-offs: only ever cut at the end of the new text.
_SIG_DELIMITER = re.compile(r"^(?:--|-- |—|__)\s*$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:Sent from my\b.{0,60}|Sent from (?:Mail|Outlook|Yahoo|Gmail|Samsung|Huawei|Xiaomi)\b.{0,60}"
    r"|Sent via\b.{0,60}|Sent with\b.{0,60}|Get Outlook for\b.{0,60}|Envoyé (?:de|à partir de)\b.{0,60}"
    r"|Von meinem\b.{0,60}gesendet|Enviado (?:desde|do) mi?\b.{0,60}|Inviato da\b.{0,60}"
    r"|Dikirim dari\b.{0,60}|Dikirim melalui\b.{0,60}|Dikirim menggunakan\b.{0,60}"
    r"|Terkirim dari\b.{0,60}|发自我的.{0,40}|來自我的.{0,40}|从我的.{0,40}发送|從我的.{0,40}傳送"
    r"|来自.{0,20}(?:邮箱|郵箱|iPhone|Android|客户端)|Sent from Mail for Windows.{0,20})\s*$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many)?\s*regards|regards|best|cheers|thanks(?: again)?"
    r"|thank you(?: very much)?|many thanks|sincerely|yours(?: sincerely| truly)?|br|rgds"
    r"|salam(?: hangat| sejahtera)?|hormat saya|hormat kami|wassalam|terima ?kasih(?: banyak)?"
    r"|terimakasih|trims|thx|tks|makasih|mksh|best wishes|sent from \S+"
    r"|此致|敬礼|此致敬礼|谢谢|謝謝|多谢|多謝|祝好|顺祝商祺|順祝商祺|祝商祺|顺颂商祺"
    r")\s*[,.!:;，。！、~]*\s*$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 8
_MAX_SIGNOFF_TAIL = 4


_WINDOW_START = re.compile(
    r"^(?:>\s?)*[-\s]*(?:On|Pada|Am|Le|El|Em|Il|Op|Den|Dne|W dniu|.{0,20}\d)", re.IGNORECASE
)


def _attribution_at(lines: list[str], i: int) -> bool:
    for span in range(1, 5):
        if i + span > len(lines):
            break
        if span > 1 and (not lines[i + span - 1].strip() or not _WINDOW_START.match(lines[i])):
            # A wrapped attribution has no blank line inside and starts like one.
            break
        window = " ".join(line.strip() for line in lines[i : i + span])
        if not _ATTRIBUTION_HINT.search(window):
            continue
        if len(window) <= 500 and _ATTRIBUTION.match(window):
            return True
    return False


def _header_block_at(lines: list[str], i: int) -> bool:
    # "From: Jakarta / To: Bali" or "Dari: BCA / Kepada: DANA" in a customer's own text is not a
    # quote header: ask for an address on the From line, or for a fuller block.
    if not _FROM_LINE.match(lines[i]):
        return False
    others = sum(1 for line in lines[i + 1 : i + 7] if _OTHER_LINE.match(line))
    has_address = "@" in lines[i] or "mailto:" in lines[i].lower()
    return others >= 3 or (others >= 1 and has_address)


def _cut_index(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _SEPARATOR.match(line) or _header_block_at(lines, i) or _attribution_at(lines, i):
            return i
    return None


_SEPARATOR_ONLY = re.compile(r"^\s*[-_=*~—–·.]{3,}\s*$")
_CONTACT = re.compile(r"@|https?://|www\.|\+?\d[\d ()-]{6,}")


def _looks_like_signature(line: str) -> bool:
    # Names, titles, companies, phone numbers: short, and not a sentence or a question.
    if _CONTACT.search(line):
        return True
    return len(line) <= 40 and len(line.split()) <= 5 and not line.endswith(("?", "？"))


def _strip_signature(lines: list[str]) -> list[str]:
    # "-- " delimiter, mobile footers: the rest is signature when it is short.
    for i, line in enumerate(lines):
        if i and (_SIG_DELIMITER.match(line) or _MOBILE_FOOTER.match(line)):
            tail = [x for x in lines[i + 1 :] if x.strip()]
            if len(tail) <= _MAX_SIGNATURE_LINES:
                return lines[:i]
        if i and _SEPARATOR_ONLY.match(line):
            # A rule above a name and a title ("——————\n小满\n活动协调人").
            tail = [x.strip() for x in lines[i + 1 :] if x.strip()]
            if len(tail) <= _MAX_SIGNOFF_TAIL and all(_looks_like_signature(x) for x in tail):
                return lines[:i]
    # A sign-off ("Regards,", "Salam,", "谢谢") followed only by a name and a title or two.
    content = [i for i, line in enumerate(lines) if line.strip()]
    for pos in range(len(content) - 1, max(-1, len(content) - 2 - _MAX_SIGNOFF_TAIL), -1):
        i = content[pos]
        if pos > 0 and _SIGN_OFF.match(lines[i]):
            tail = [x.strip() for x in lines[i + 1 :] if x.strip()]
            if len(tail) <= _MAX_SIGNOFF_TAIL and all(_looks_like_signature(x) for x in tail):
                return lines[:i]
    return lines


def _drop_trailing_rules(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and (not lines[end - 1].strip() or _SEPARATOR_ONLY.match(lines[end - 1])):
        end -= 1
    return lines[:end]


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _unquoted(lines: list[str]) -> list[str]:
    return [line for line in lines if not _QUOTED.match(line)]


def _has_text(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)


def new_text(body: str) -> str:
    """Return the part of a reply the sender wrote now, without quotes and sign-off."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_index(lines)
    kept = _unquoted(lines[:cut] if cut is not None else lines)
    if not _has_text(kept) and cut is not None and _attribution_at(lines, cut):
        # Bottom-posting: "On ... wrote:", the quote, then the answer below it.
        rest = lines[cut + 1 :]
        while rest and (_QUOTED.match(rest[0]) or not rest[0].strip()):
            rest = rest[1:]
        below = _unquoted(rest)
        nxt = _cut_index(below)
        kept = below[:nxt] if nxt is not None else below
    kept = _drop_trailing_rules(kept)
    if not _has_text(kept):
        # Nothing but history (a bare forward, a top-quoted mail): keep the whole body, so the
        # message still says something.
        return _tidy(lines)
    signed_off = _drop_trailing_rules(_strip_signature(kept))
    return _tidy(signed_off if _has_text(signed_off) else kept)
