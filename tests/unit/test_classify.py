"""Classifier behaviour agents rely on: must-not-miss cases, taxonomy boundaries, priorities."""

import pytest
from deskintake.domain.classify import classify
from deskintake.domain.model import Category, Priority


def cat(text: str, subject: str = "", **kw: object) -> str:
    return classify(subject, text, **kw).category.value  # type: ignore[arg-type]


# --- must never be missed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Ada transaksi Rp 2.500.000 di kartu kredit 411111******1111, saya tidak pernah melakukan transaksi itu",
        "min kartu kredit sy kepotong buat belanja di tokopedia padahal sy gak pernah belanja",
        "I see a charge on my credit card that I did not make, please block it",
        "My card was stolen yesterday and someone used it at a petrol station",
        "我的信用卡有一笔不是我消费的交易，被盗刷了",
        "信用卡丢了，刚收到一条在外地消费的短信",
    ],
)
def test_card_fraud_is_never_missed(text: str) -> None:
    c = classify("", text)
    assert c.category is Category.CARD_FRAUD
    assert c.priority is Priority.URGENT


@pytest.mark.parametrize(
    "text",
    [
        "I did NOT request this OTP but I just got one by SMS",
        "Someone called me claiming to be your support and asked for my OTP",
        "saya tidak meminta kode OTP tapi tiba-tiba dapat SMS kode verifikasi",
        "min ada yg ngaku cs sepulsa nelpon minta kode otp, itu beneran?",
        "akun saya dibobol, saldo hilang semua",
        "我没有申请验证码，却收到了短信",
        "有人冒充客服打电话问我要验证码",
    ],
)
def test_account_security_is_never_missed(text: str) -> None:
    c = classify("", text)
    assert c.category is Category.ACCOUNT_SECURITY
    assert c.priority is Priority.URGENT


@pytest.mark.parametrize(
    "text",
    [
        "I got a phishing email pretending to be you, with a link to a fake login page. I did not click it.",
        "Mau lapor ada email palsu yang mengatasnamakan Sepulsa, isinya link mencurigakan",
        "收到一条钓鱼短信，里面有个可疑链接，我没有点",
    ],
)
def test_phishing_report_is_security_at_high_when_nothing_is_compromised(text: str) -> None:
    c = classify("", text)
    assert c.category is Category.ACCOUNT_SECURITY
    assert c.priority is Priority.HIGH


def test_phishing_that_compromised_the_account_stays_urgent() -> None:
    c = classify("", "I clicked a phishing link and entered my password, now my balance is gone")
    assert c.category is Category.ACCOUNT_SECURITY
    assert c.priority is Priority.URGENT


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("", "Situs slot gacor hari ini, maxwin dijamin! Daftar sekarang bonus new member 100%"),
        ("Info togel", "Bandar togel terpercaya, pasang sekarang"),
        ("", "Platform seperti pluto888 selalu siap membantu, link alternatif tersedia 24 jam"),
        (
            "Boost your Google ranking",
            "We offer SEO services to get your website on the first page of Google.",
        ),
        ("", "Pinjaman online cair dalam 1 jam tanpa jaminan, bunga rendah!"),
        ("", "Invest in bitcoin today and double your profit in 7 days"),
        ("", "百家乐真人娱乐，注册即送彩金"),
    ],
)
def test_spam_is_recognised_and_never_prioritised(subject: str, text: str) -> None:
    c = classify(subject, text)
    assert c.category is Category.SPAM
    assert c.priority is Priority.NONE


def test_ses_spam_verdict_fail_is_spam() -> None:
    c = classify("Hello", "Please check my order status", spam_verdict="FAIL")
    assert c.category is Category.SPAM and c.priority is Priority.NONE
    assert "spam verdict" in c.explanation[0]
    assert (
        classify("", "my top up is still pending", spam_verdict="PASS").category
        is not Category.SPAM
    )


# --- boundaries from TAXONOMY.md ------------------------------------------------------------


def test_pending_status_is_order_pending_even_when_money_left() -> None:
    assert (
        cat("sudah bayar, saldo terpotong, tapi status pesanan masih pending dari tadi")
        == "order_pending"
    )
    assert cat("I paid 20 minutes ago and the order is still processing") == "order_pending"


def test_success_without_delivery_is_product_not_received() -> None:
    assert (
        cat("status transaksi sukses tapi pulsa belum masuk ke nomor saya")
        == "product_not_received"
    )
    assert cat("订单显示成功，但是话费一直没有到账") == "product_not_received"


def test_top_up_that_never_shows_is_payment_refund() -> None:
    assert (
        cat("saya top up saldo 100rb tapi saldonya tidak bertambah, mohon dicek")
        == "payment_refund"
    )


def test_double_charge_is_payment_refund_but_fees_are_billing() -> None:
    assert cat("I was charged twice for the same voucher, please refund one") == "payment_refund"
    assert (
        cat("Why is there an annual fee on my credit card statement? Can you waive it?")
        == "billing_inquiry"
    )


def test_own_otp_not_arriving_is_account_access() -> None:
    assert cat("kode OTP tidak masuk-masuk waktu saya mau login") == "account_access"
    assert cat("I forgot my password and cannot log in") == "account_access"


def test_reward_voucher_not_arriving_is_rewards_points() -> None:
    assert (
        cat("sudah tukar poin reward dengan voucher belanja tapi vouchernya belum saya terima")
        == "rewards_points"
    )


def test_partnership_request_is_sales_not_spam() -> None:
    assert (
        cat("Kami tertarik menjadi reseller resmi produk Anda, boleh minta kontak tim marketing?")
        == "sales_inquiry"
    )


def test_complaint_escalates_to_high_when_threatening_regulator_or_press() -> None:
    c = classify(
        "",
        "Pelayanan CS kalian sangat lambat dan tidak sopan, saya akan lapor ke OJK dan viralkan di medsos",
    )
    assert c.category is Category.COMPLAINT
    assert c.priority is Priority.HIGH
    plain = classify(
        "", "Your agents are rude and I waited two hours in the chat queue. Terrible service."
    )
    assert plain.category is Category.COMPLAINT
    assert plain.priority is Priority.NORMAL


# --- hint, calibration, explanation ---------------------------------------------------------


def test_hint_tips_an_ambiguous_message_but_not_a_clear_one() -> None:
    assert cat("tolong dibantu kak", hint="account_access") == "account_access"
    assert cat("I have a question about my card", hint="billing_inquiry") == "billing_inquiry"
    # A pre-chat choice does not override a clear card-fraud message.
    assert (
        cat("kartu kredit saya dipakai transaksi yang tidak saya lakukan", hint="feedback")
        == "card_fraud"
    )
    assert cat("status order saya masih pending dari tadi", hint="feedback") == "order_pending"


def test_confidence_is_a_probability_and_lower_for_gibberish() -> None:
    clear = classify("", "my pulsa order is still pending after I paid 30 minutes ago")
    gibberish = classify("", "qwxz blorf vvn kkrt zzyq")
    for c in (clear, gibberish):
        assert 0.0 <= c.confidence <= 1.0
    assert gibberish.confidence < clear.confidence
    assert gibberish.needs_triage
    assert not clear.needs_triage


def test_explanation_names_the_rule_or_the_deciding_words() -> None:
    fraud = classify(
        "", "Ada transaksi di kartu kredit 411111******1111 yang tidak pernah saya lakukan"
    )
    assert fraud.explanation[0].startswith("rule: ") and "card_fraud" in fraud.explanation[0]
    pending = classify("", "order pulsa masih pending dari tadi")
    assert pending.explanation[0].startswith("features: ") and "pending" in pending.explanation[0]


def test_result_carries_language_entities_and_model_version() -> None:
    c = classify("", "min TRX9920183 masih pending dari jam 14.30 tadi, Rp 50.000 udh kepotong")
    assert c.lang.value == "id"
    assert c.entities["order_ids"] == ["TRX9920183"] and c.entities["payment_time"] == "14:30"
    assert c.model_version
