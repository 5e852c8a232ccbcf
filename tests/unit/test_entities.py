"""Entity extraction: ids, amounts, phones, products, card ends and the payment time."""

from deskintake.domain.entities import extract_entities


def test_order_id_amount_and_time_from_indonesian_chat() -> None:
    e = extract_entities(
        "gan TRX9920183 masih pending dari jam 14.30 tadi, saldo kepotong Rp 50.000", "id"
    )
    assert e["order_ids"] == ["TRX9920183"]
    assert e["amounts"] == [{"amount": 50000, "currency": "IDR", "text": "Rp 50.000"}]
    assert e["payment_time"] == "14:30"


def test_rupiah_shorthands() -> None:
    e = extract_entities("beli pulsa Rp50rb, trus 25rb lagi, total 1,5jt sebulan", "id")
    assert [(a["amount"], a["currency"]) for a in e["amounts"]] == [
        (50000, "IDR"),
        (25000, "IDR"),
        (1500000, "IDR"),
    ]
    assert e["products"] == ["pulsa"]


def test_yuan_and_dollar_amounts() -> None:
    zh = extract_entities("下午3点被扣了500元，还有¥120", "zh")
    assert {(a["amount"], a["currency"]) for a in zh["amounts"]} == {(500, "CNY"), (120, "CNY")}
    assert zh["payment_time"] == "15:00"
    en = extract_entities("I was charged $25.50 at 2:30 pm", "en")
    assert en["amounts"][0]["amount"] == 25.5 and en["amounts"][0]["currency"] == "USD"
    assert en["payment_time"] == "14:30"


def test_phone_numbers_are_normalised() -> None:
    e = extract_entities("hubungi 0812-3456-7890 atau +62 813 1111 2222, 手机13812345678", "id")
    assert e["phones"] == ["+6281234567890", "+6281311112222", "+8613812345678"]
    assert "order_ids" not in e  # a phone number is not an order id


def test_products_and_e_wallets() -> None:
    e = extract_entities("token PLN 100rb dibayar pakai GoPay, paket data juga pakai OVO", "id")
    assert set(e["products"]) >= {"token_listrik", "paket_data", "e_wallet"}
    assert e["e_wallets"] == ["GoPay", "OVO"]


def test_card_first_six_last_four_from_masked_number() -> None:
    e = extract_entities("kartu 411111******1111 ada transaksi yang tidak saya lakukan", "id")
    assert e["card"] == {"first6": "411111", "last4": "1111"}


def test_card_ends_from_words() -> None:
    e = extract_entities("6 digit awal 411111 4 digit akhir 1234", "id")
    assert e["card"] == {"first6": "411111", "last4": "1234"}
    assert extract_entities("卡片尾号8899被盗刷", "zh")["card"] == {"last4": "8899"}


def test_full_card_number_is_never_returned_whole() -> None:
    e = extract_entities("my card 4111 1111 1111 1234 was charged", "en")
    assert e["card"] == {"first6": "411111", "last4": "1234"}
    assert "4111111111111234" not in repr(e)


def test_payment_time_forms() -> None:
    assert extract_entities("bayar pukul 09:15 WIB", "id")["payment_time"] == "09:15"
    assert extract_entities("tadi jam 3 sore sudah transfer", "id")["payment_time"] == "15:00"
    assert extract_entities("下午三点半付的款", "zh")["payment_time"] == "15:30"
    assert extract_entities("paid around 10.05", "en")["payment_time"] == "10:05"
    assert "payment_time" not in extract_entities("I have been waiting at 5 stores", "en")


def test_an_order_id_full_of_digits_is_not_taken_for_a_card() -> None:
    from deskintake.domain.entities import extract_entities

    found = extract_entities("order INV-20261121-88412 masih pending, HP 081234567890", "id")

    assert "card" not in found
    assert found["order_ids"] == ["INV-20261121-88412"]


def test_a_real_card_number_keeps_only_its_ends() -> None:
    from deskintake.domain.entities import extract_entities

    assert extract_entities("kartu 4111 1111 1111 1111 dibobol", "id")["card"] == {
        "first6": "411111", "last4": "1111"}
