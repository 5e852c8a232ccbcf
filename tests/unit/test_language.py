"""Language detection: Indonesian (formal and chat slang), Chinese (both scripts), English."""

import pytest
from deskintake.domain.language import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "Selamat siang, pesanan saya belum diterima padahal pembayaran sudah berhasil.",
        "min pulsa sy blm masuk udh 1 jam",
        "kak tlg dibantu, gimana ini saldo gak balik",
        "sy udh bayar tp statusnya masih pending",
        # Code-mixed Indonesian and English counts as Indonesian.
        "hi kak, my order masih pending, udah transfer via BCA",
        "please help min, token listrik belum masuk",
    ],
)
def test_indonesian_formal_slang_and_code_mixed(text: str) -> None:
    assert detect_language(text) == "id"


@pytest.mark.parametrize(
    "text",
    [
        "我的信用卡被盗刷了，请帮我冻结",
        "我沒有申請驗證碼，為什麼收到簡訊？",  # traditional
        "订单号 INV-2023-8812 还在处理中",  # Latin id inside Chinese text
        "OTP 验证码收不到",
    ],
)
def test_chinese_simplified_and_traditional(text: str) -> None:
    assert detect_language(text) == "zh"


@pytest.mark.parametrize(
    "text",
    [
        "I did not request this OTP, what is going on?",
        "My top-up is still pending after an hour.",
        "Where can I find my card statement?",
        "Hi, I paid with DANA but the order failed.",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


def test_empty_text_falls_back_to_english() -> None:
    assert detect_language("") == "en"
    assert detect_language("12345 !!!") == "en"
