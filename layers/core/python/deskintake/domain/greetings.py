"""Messages that only say hello: "halo kak", "permisi min", "p", "hello?", "你好，在吗".

Chat customers often open with a greeting and send the request in the next message. A greeting
has no request to classify, and the model, which never saw one alone, files it anywhere
(spam, profile_update, feedback). It is a general inquiry that waits for its request; intake
re-classifies the ticket when the request comes (services/intake).
"""

from __future__ import annotations

import re

# Greetings, forms of address and openers, in Indonesian (with chat spellings) and English.
_VOCABULARY = (
    "halo hallo haloo hai hay hei hey helo hellow hello hi hii hiya yo p pp ping tes test",
    "permisi misi punten assalamualaikum assalamu'alaikum asalamualaikum assalamualaikom aslm",
    "ass wr wb warahmatullahi wabarakatuh salam selamat slmt pagi siang sore malam met",
    "kak ka kk kakak min mimin admin gan agan sis bro bang mas mba mbak pak bu ibu bapak om",
    "cs tim team dear sayang",
    "good morning afternoon evening day there anyone anybody someone everyone all folks",
    "support service customer care sir madam mam ma'am",
    "apa kabar ada orang online nggak ga gak tidak boleh bisa tanya nanya bertanya mau ingin",
    "numpang aku saya i can may ask a question have quick is are you me excuse please pls plz",
    "ya yah nih dong deh sih",
)
_WORDS = frozenset(word for line in _VOCABULARY for word in line.split())

_ZH = re.compile(
    "你好|您好|你们好|大家好|哈喽|哈啰|嗨|喂|早上好|早安|上午好|中午好|下午好|晚上好|"
    "在吗|在么|在嘛|在不在|有人吗|有人在吗|客服|亲|请问|打扰了|打扰一下|"
    "我想问一下|想问一下|问一下|想咨询一下|咨询一下|我有个问题|有个问题"
)
GREETING_RULE = "greeting only, the request has yet to come"
_TOKEN = re.compile(r"[a-z']+")
_LEFTOVER = re.compile(r"[\W_]+", re.UNICODE)  # punctuation, emoji and spaces are no request
_MAX_WORDS = 12


def is_greeting_only(text: str) -> bool:
    """True when `text` is nothing but greetings, forms of address and openers."""
    lowered = text.casefold().strip()
    if not lowered or len(lowered) > 120 or any(ch.isdigit() for ch in lowered):
        return False
    rest = _ZH.sub(" ", lowered)
    words = _TOKEN.findall(rest)
    if len(words) > _MAX_WORDS or any(w not in _WORDS for w in words):
        return False
    # Anything besides those words and punctuation (other scripts, stray letters) is content.
    return not _LEFTOVER.sub("", _TOKEN.sub("", rest))
