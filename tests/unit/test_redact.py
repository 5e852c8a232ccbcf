"""Card numbers, OTP codes and passwords are masked; ordinary numbers and words are not."""

from __future__ import annotations

import pytest
from deskintake.domain.model import Redaction
from deskintake.domain.redact import mask, mask_card_number, mask_html


def counts(reds: list[Redaction]) -> dict[str, int]:
    return {r.kind: r.count for r in reds}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4111 1111 1111 1111 charged", "card 411111******1111 charged"),
        ("kartu 4111-1111-1111-1111.", "kartu 411111******1111."),
        ("no 4111111111111111", "no 411111******1111"),
        ("MC 5555555555554444", "MC 555555******4444"),
        ("amex 3782 822463 10005", "amex 378282*****0005"),
        ("unionpay 6200000000000005", "unionpay 620000******0005"),
        ("jcb 3530111333300000", "jcb 353011******0000"),
    ],
)
def test_luhn_valid_card_numbers_keep_only_first_six_and_last_four(text: str, masked: str) -> None:
    out, reds = mask(text)
    assert out == masked
    assert counts(reds) == {"card": 1}


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112",  # fails Luhn
        "hp saya 081234567890",
        "telepon +62 812-3456-7890",
        "VA 8808123456789012",
        "trx id 20240101123456789",
        "total Rp 1.250.000",
        "resi JP1234567890123",
    ],
)
def test_ordinary_digit_runs_are_left_alone(text: str) -> None:
    assert mask(text) == (text, [])


def test_a_card_written_after_a_phone_number_is_still_found() -> None:
    out, _ = mask("hubungi 0812 3456 7890 kartu 4111 1111 1111 1111")
    assert out == "hubungi 0812 3456 7890 kartu 411111******1111"


def test_mask_card_number_pads_the_middle() -> None:
    assert mask_card_number("4111111111111111") == "411111******1111"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("kode OTP saya 482913 tolong", "kode OTP saya [OTP] tolong"),
        ("OTP: 123456", "OTP: [OTP]"),
        ("otpnya 5521 kak", "otpnya [OTP] kak"),
        ("kode verifikasi adalah 5521", "kode verifikasi adalah [OTP]"),
        ("Your verification code is 884213.", "Your verification code is [OTP]."),
        ("884213 is your verification code", "[OTP] is your verification code"),
        ("kodenya 123456 jangan dikasih ke siapa2", "kodenya [OTP] jangan dikasih ke siapa2"),
        ("【银行】您的验证码是123456，请勿泄露", "【银行】您的验证码是[OTP]，请勿泄露"),
        ("123456是您的动态码", "[OTP]是您的动态码"),
        ("校验码：998877", "校验码：[OTP]"),
        ("动态密码 20481", "动态密码 [OTP]"),
        ("OTP for my account is 123 456", "OTP for my account is [OTP]"),
    ],
)
def test_otp_codes_next_to_their_word_are_masked(text: str, masked: str) -> None:
    out, reds = mask(text)
    assert out == masked
    assert counts(reds) == {"otp": 1}


@pytest.mark.parametrize(
    "text",
    [
        "kode pos 12345 Jakarta",
        "promo code 4821 not working",
        "kode booking 12345678",
        "OTP for order 12345678 never came",
        "kode OTP berlaku 5 menit",
        "Code: 4625 - Type: Critical",
        "OTP tidak masuk ke nomor 081234567890",
        "the OTP arrived at 2024",
    ],
)
def test_numbers_that_are_not_one_time_codes_are_left_alone(text: str) -> None:
    assert mask(text) == (text, [])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("password: hunter2", "password: [PASSWORD]"),
        ("password saya abc123", "password saya [PASSWORD]"),
        ("pass sy: xx", "pass sy: [PASSWORD]"),
        ("kata sandi: rahasia", "kata sandi: [PASSWORD]"),
        ("Password saya juga Rahasia123 tolong", "Password saya juga [PASSWORD] tolong"),
        ("passwordnya Rahasia99 ya kak", "passwordnya [PASSWORD] ya kak"),
        ("Username: budi, Password: s3cret!", "Username: budi, Password: [PASSWORD]"),
        ("my password is Tr0ub4dor&3", "my password is [PASSWORD]"),
        ("密码是abc123，请帮我", "密码是[PASSWORD]，请帮我"),
        ("密码：Qwerty!1", "密码：[PASSWORD]"),
        ("PIN saya 123456", "PIN saya [PASSWORD]"),
    ],
)
def test_passwords_given_in_text_are_masked(text: str, masked: str) -> None:
    out, reds = mask(text)
    assert out == masked
    assert counts(reds) == {"password": 1}


@pytest.mark.parametrize(
    "text",
    [
        "password saya lupa",
        "I forgot my password and cannot log in",
        "my password is wrong",
        "reset password link please",
        "boarding pass 12A",
        "pin lokasi toko",
        "密码错误，无法登录",
        "lupa kata sandi, tolong reset",
    ],
)
def test_talking_about_passwords_masks_nothing(text: str) -> None:
    assert mask(text) == (text, [])


def test_counts_are_per_kind_and_values_never_survive() -> None:
    text = (
        "Kartu 4111 1111 1111 1111 dan 5555 5555 5555 4444, kode OTP 482913, password: Rahasia123"
    )
    out, reds = mask(text)
    assert counts(reds) == {"card": 2, "otp": 1, "password": 1}
    for secret in ("4111 1111 1111 1111", "5555 5555 5555 4444", "482913", "Rahasia123"):
        assert secret not in out


def test_html_is_masked_across_tags_and_markup_is_kept() -> None:
    html = "<p><b>OTP</b>: 123456</p><p>kartu <span>4111 1111 1111 1111</span></p>"
    out, reds = mask_html(html)
    assert out == "<p><b>OTP</b>: [OTP]</p><p>kartu <span>411111******1111</span></p>"
    assert counts(reds) == {"card": 1, "otp": 1}
