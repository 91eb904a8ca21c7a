"""Words the deterministic yes-detector reads, in English and the languages customers most often use.

Alphabetic scripts are matched as whole words; Chinese, Japanese and Korean have no spaces between
words, so their entries are matched as substrings. Each list is a kind of reply that is not an
unconditional yes: say no, set a condition, hedge or defer, ask, mock, or change the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

AFFIRM = (
    # English
    "yes", "yeah", "yep", "yup", "yea", "ya", "ye", "aye", "y", "sure", "ok", "okay", "okey", "okie", "k", "kk",
    "alright", "all right", "fine", "confirm", "confirmed", "i confirm", "correct", "that's right",
    "that is right", "right", "affirmative", "absolutely", "definitely", "certainly", "of course", "go ahead",
    "go for it", "proceed", "please do", "do it", "do that", "let's do it", "lets do it", "sounds good",
    "sounds great", "sounds perfect", "perfect", "great", "works for me", "that works", "agreed", "i agree",
    "approved", "i approve", "by all means", "indeed", "yes please", "roger", "exactly", "precisely",
    "totally", "you bet", "make it so", "that's fine", "go on", "please proceed",
    # French, Spanish, Italian, Portuguese, German, Dutch
    "oui", "ouais", "d'accord", "dac", "bien sûr", "bien sur", "volontiers", "allez-y", "allez y", "vas-y",
    "je confirme", "confirmé", "parfait", "c'est bon", "entendu", "tout à fait", "absolument", "exactement",
    "sí", "claro", "por supuesto", "de acuerdo", "vale", "adelante", "confirmo", "correcto", "perfecto",
    "exacto", "desde luego", "hazlo", "procede", "sì", "certo", "va bene", "d'accordo", "procedi", "confermo",
    "esatto", "perfetto", "certamente", "assolutamente", "sim", "pode", "com certeza", "pode ser", "perfeito",
    "exato", "beleza", "tá bom", "ta bom", "ja", "jawohl", "genau", "klar", "natürlich", "einverstanden",
    "gerne", "gern", "bestätige", "bestätigt", "richtig", "passt", "in ordnung", "mach das", "prima",
    "graag", "akkoord", "zeker", "doe maar",
    # Russian, Polish, Turkish, Hindi (also romanised), Arabic, Hebrew
    "да", "конечно", "хорошо", "подтверждаю", "давайте", "ладно", "согласен", "согласна", "верно",
    "tak", "jasne", "oczywiście", "dobrze", "potwierdzam", "evet", "tamam", "olur", "onaylıyorum", "tabii",
    "हाँ", "हां", "जी", "haan", "haa", "ji", "theek hai", "ठीक है", "نعم", "أكيد", "موافق", "כן",
)
AFFIRM_CJK = (
    "はい", "ええ", "うん", "お願いします", "お願い", "了解", "承知", "そうです", "進めて",
    "是的", "是", "好的", "好", "可以", "对", "對", "确认", "確認", "当然", "同意", "请继续",
    "네", "예", "좋아요", "좋습니다", "확인", "그래요", "진행해", "👍", "👌", "✅", "🆗",
)

# Said with a negative word, but meaning yes: read as "ok" before the negation check.
AGREE_IDIOM = (
    r"no problem", r"no problems", r"not a problem", r"no worries", r"why not", r"pas de problème",
    r"pas de souci", r"sin problema", r"no hay problema", r"kein problem", r"nessun problema", r"sem problema",
    r"без проблем", r"没问题", r"沒問題", r"問題ない", r"問題ありません", r"문제 없어요", r"문제없어요",
)
# Said with a negative word, but giving a reason for the change or a feeling about it: removed
# before the negation check. "I don't need it" is a reason; "I don't want to" or "I don't need you
# to" (an action follows) is a refusal.
REASON_IDIOM = (
    r"no rush", r"no hurry", r"no doubt", r"without a doubt", r"can'?t wait", r"cannot wait", r"can not wait",
    r"(?:i|we)(?: really| just| simply| truly)? (?:don'?t|do not|won'?t|will not|no longer|can'?t|cannot) "
    r"(?:need|want|use|require)(?! (?:to|you|u|anyone|anybody|someone|that done|this done|it done)\b)"
    r"(?: (?:it|them|this|that|those|these|the \w+|my \w+|any of (?:it|them)))?(?: any ?more| any longer)?",
    r"(?:it'?s|it is|they'?re|they are|that'?s|that is) (?:not|no longer) (?:needed|necessary|required)"
    r"(?: any ?more)?",
    r"no longer (?:needed|necessary|required)", r"not needed any ?more",
    r"no need (?:for|to keep) (?:it|them|this|that)",
    r"(?:i|we) (?:won'?t|will not) be (?:needing|using) (?:it|them|this|that)", r"(?:i|we) have no use for (?:it|them)",
    r"(?:i|we) (?:can'?t|cannot|won'?t be able to) make (?:it|the trip|that trip|the flight)",
    r"(?:i'?m|i am|we'?re|we are) not (?:going|traveling|travelling|flying)(?: any ?more)?",
)

NEGATE = (
    "no", "nope", "nah", "not", "never", "don't", "dont", "do not", "doesn't", "won't", "wouldn't",
    "shouldn't", "can't", "cannot", "isn't", "aren't", "neither", "nor", "negative", "none",
    "non", "pas", "ne", "jamais", "nunca", "tampoco", "nein", "nicht", "kein", "keine", "nie", "não", "nao",
    "нет", "не", "nee", "niet", "geen", "hayır", "hayir", "değil", "yok", "nahi", "nahin", "नहीं", "لا", "לא",
)
NEGATE_CJK = ("いいえ", "いや", "ない", "ません", "だめ", "ダメ", "結構です", "不", "没", "沒", "别", "別", "算了",
              "아니", "안 ", "않", "싫", "못")

CONDITION = (
    "if", "unless", "once", "provided", "providing", "assuming", "as long as", "only when", "after", "before",
    "until", "till", "depending", "in case", "on condition", "as soon as", "when my", "when i", "when we",
    "à condition", "pourvu", "quand", "lorsque", "dès que", "sauf si", "siempre que", "cuando", "a menos que",
    "con tal", "wenn", "falls", "sofern", "sobald", "nachdem", "außer", "purché", "quando", "a meno che",
    "desde que", "caso", "если", "когда", "jeśli", "jeżeli", "gdy", "indien", "zodra", "eğer", "agar", "अगर",
)
CONDITION_CJK = ("もし", "なら", "たら", "れば", "如果", "要是", "的话", "만약", "다면")

HEDGE = (
    "maybe", "perhaps", "probably", "possibly", "might", "i think", "i guess", "i suppose", "not sure",
    "unsure", "hmm", "hm", "hmmm", "um", "umm", "uh", "er", "wait", "hold on", "hang on", "one moment",
    "one sec", "a moment", "a minute", "a sec", "give me", "let me", "on second thought", "actually",
    "later", "tomorrow", "think about", "check with", "ask my", "talk to", "i'll see", "we'll see",
    "kind of", "sort of", "kinda", "sorta", "rather", "but", "however", "although", "though", "except",
    "instead", "only", "also", "as well", "plus", "too", "in addition", "additionally", "other", "another",
    "different", "switch", "prefer", "make it", "use my", "use the", "not yet", "hopefully", "i hope",
    "put it on", "charge it", "charge to", "pay with", "bill it", "bill my",
    "peut-être", "attendez", "attends", "je pense", "je crois", "plus tard", "d'abord", "mais", "quizás",
    "quizá", "tal vez", "espera", "espere", "creo", "luego", "primero", "pero", "vielleicht", "warte",
    "warten", "moment", "ich glaube", "später", "zuerst", "aber", "forse", "aspetta", "aspetti", "penso",
    "credo", "dopo", "ma", "talvez", "acho", "depois", "mas", "может", "подождите", "подожди",
    "думаю", "потом", "сначала", "но", "może", "ale", "misschien", "maar", "belki", "ama", "lekin", "शायद",
)
HEDGE_CJK = ("たぶん", "多分", "ちょっと", "待って", "でも", "けど", "後で", "也许", "可能", "等一下", "等等", "但是",
             "但", "不过", "先", "再说", "考虑", "아마", "잠깐", "하지만", "그런데", "나중에")

# Mockery: the yes is not meant.
SARCASM = (
    "yeah right", "yeah, right", "ya right", "oh great", "oh sure", "oh yeah", "sure, sure", "as if",
    "whatever", "/s", "lol", "lmao", "jk", "just kidding", "kidding", "dream on", "in your dreams",
    "over my dead body", "thanks for nothing", "ruin", "waste", "rip-off", "ripoff", "scam", "ridiculous",
    "like hell", "fat chance", "sure you will", "suure", "suuure", "riiight", "🙄", "😒", "🤡",
)

# A clause that asks, even without a question mark.
ASK_START = (
    "what", "what's", "whats", "how", "which", "why", "when", "where", "who", "whom", "whose",
    "can i", "can you", "can we", "could i", "could you", "would it", "would you", "would i", "will it",
    "will i", "will you", "will there", "is it", "is there", "is that", "are there", "are you", "do i",
    "do you", "do we", "does it", "does that", "did you", "should i", "should we", "shall we", "may i",
    "am i", "i wonder", "i want to know", "i'd like to know", "tell me", "curious", "what about", "how about",
    "qué", "cuánto", "cómo", "cuál", "por qué", "quoi", "combien", "comment", "pourquoi", "quel", "quelle",
    "est-ce", "was", "wie", "warum", "wann", "welche", "cosa", "quanto", "come", "perché", "quale", "o que",
    "como", "por que", "что", "сколько", "как", "почему", "ile", "czy", "hoeveel", "wat", "ne kadar", "neden",
    "kya", "kitna", "क्या",
)
ASK_CJK = ("什么", "多少", "怎么", "为什么", "吗", "嗎", "呢", "いくら", "どう", "なぜ", "ですか", "ますか",
           "뭐", "얼마", "어떻게", "왜", "까요", "나요")

# The reply says whose something is, or who they are: an answer to a question about facts, not a
# decision about a change.
FACT = (
    "that's my", "that is my", "it's my", "it is my", "this is my", "those are my", "these are my",
    "my name is", "my email is", "my user id is", "my id is", "that's me", "it's me", "that's mine",
    "it's mine", "that one is mine", "i booked it", "i made that booking",
)
# "my reservation number is ...", "my card is ...": a statement about the customer's details.
FACT_PATTERN = r"\bmy(?: \w+){1,3} (?:is|are|was)\b"

# Verbs that take a request back, by the English word for what they do, unless that word names the
# very action proposed ("yes, cancel it" and "oui, annulez-la" to a proposed cancellation).
RETRACT = {
    "cancel": ("cancel", "annul", "annule", "cancela", "cancele", "storn", "annulla", "отмени", "отменить",
               "取消", "キャンセル", "취소"),
    "stop": ("stop", "abort", "arrête", "arrêtez", "stopp", "ferma", "стоп", "停"),
    "undo": ("undo", "forget", "scratch", "nevermind", "never mind", "drop"),
}
RETRACT_WORDS = tuple(word for words in RETRACT.values() for word in words)

FILLER = ("ok", "okay", "so", "and", "also", "well", "oh", "um", "yes", "yeah", "sure", "then", "alright",
          "great", "perfect", "fine", "y", "et", "y", "und", "e", "и")


def words(entries: Iterable[str]) -> re.Pattern[str]:
    """One pattern matching any entry as whole words (``'`` kept inside words)."""
    parts = sorted({re.escape(e) for e in entries}, key=len, reverse=True)
    # a hyphen joins words ("non-refundable" is not the word "non")
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")


def pieces(entries: Iterable[str]) -> re.Pattern[str]:
    """One pattern matching any entry anywhere (scripts without spaces between words)."""
    return re.compile("|".join(sorted({re.escape(e) for e in entries}, key=len, reverse=True)))
