"""Language detection for customer messages: Indonesian, Chinese or English, in pure Python."""

from __future__ import annotations

import re

__all__ = ["detect_language", "cjk_ratio"]

# Han ideographs (incl. extension A and compatibility) plus CJK punctuation and full-width forms.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

# Function words and chat slang that mark Indonesian. Loan words shared with English ("bank",
# "transfer", "status") are left out on purpose: they say nothing about the language.
_ID_WORDS = frozenset(
    """
    yang dan di ke dari ini itu tidak tdk gak ga nggak ngga enggak gk engga blm belum sudah udah udh
    sdh dah saya sy aku aq gue gw kamu anda kak ka kakak min mohon tolong tlg tolongin bantu
    dibantu bagaimana gimana gmn gmna kenapa knp kok dong deh sih nih ya yg utk untuk dgn dengan
    pada sama juga jg lagi lg masih msh tapi tp tetapi karena krn kalau kalo klo kl apa ada adalah
    akan bisa bs bisakah sampai sampe sampai2 hari jam menit pulsa beli membeli pembelian bayar
    dibayar pembayaran terima diterima kasih terimakasih makasih mksh selamat pagi siang sore malam
    halo hai tolong kode akun saldo uang dana kembali pengembalian transaksi kartu kredit nomor
    nomer masuk gagal berhasil sukses tagihan kenapa mengapa atas nama baru lama sekali banget
    bgt aja saja cuma hanya kah lah pun belum tapi namun jika apabila sehingga agar supaya mau ingin
    pengen pingin minta meminta tanya bertanya nanya informasi layanan pelanggan kami kita
    mereka dia beliau pak bu bapak ibu mas mbak gan bos sis wkwk wkwkwk mantap oke sip siap
    tanggal bulan tahun kemarin kemaren tadi besok sekarang skrg skr segera cepat lambat lama
    ditunggu tunggu menunggu nunggu keluhan kecewa parah tolonglah pesanan pesan kuota
    listrik paket isi ulang saldonya uangnya sudah2 gimana2 nya kan yah udahan gmana
    """.split()
)
_EN_WORDS = frozenset(
    """
    the a an and or but of to in on at for with from by is are was were be been being have has had
    do does did not no yes i my me we our you your he she it its they them their this that these
    those what which who whom why how when where can could would should will shall may might must
    please thanks thank hello hi dear regards sir madam there here than then so if because about
    into out up down over after before again still yet just only also very too any some all any
    don't didn't doesn't can't won't isn't aren't wasn't i'm i've it's haven't hasn't
    am get got received receive money account card payment paid order refund help need want
    """.split()
)


def cjk_ratio(text: str) -> float:
    """Share of letters in `text` that are Han ideographs."""
    letters = len(_LETTER.findall(text))
    return len(_HAN.findall(text)) / letters if letters else 0.0


def detect_language(text: str) -> str:
    """Return "zh", "id" or "en" for a message; code-mixed Indonesian/English counts as "id"."""
    han = len(_HAN.findall(text))
    if han:
        letters = len(_LETTER.findall(text))
        # Latin letters are several to a word while one Han character is a word: a handful of
        # ideographs in a message is already Chinese text (order ids and brand names stay Latin).
        if han >= 2 and han * 3 >= letters - han or han >= 12:
            return "zh"
    words = _WORD.findall(text.lower())
    if not words:
        return "zh" if han else "en"
    id_hits = sum(1 for w in words if w in _ID_WORDS)
    en_hits = sum(1 for w in words if w in _EN_WORDS)
    # Indonesian reduplication ("barang2", "kata-kata") and -nya suffixes are cheap extra signals.
    id_hits += sum(1 for w in words if len(w) > 4 and w.endswith("nya"))
    if id_hits == 0:
        return "en"
    # Mixed messages: Indonesian customers borrow English freely, the reverse is rare, so a
    # modest share of Indonesian words is enough.
    return "id" if id_hits * 2 >= en_hits or id_hits >= 4 else "en"
