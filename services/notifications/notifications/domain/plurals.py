"""Plural categories (CLDR) of the three languages Demeu speaks."""


def category(locale, n):
    n = abs(int(n))
    if locale == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    # Kazakh and English: CLDR "one" for 1, "other" otherwise. (Kazakh nouns stay singular
    # after a numeral, so its two forms are usually the same word.)
    return "one" if n == 1 else "other"


# Each counted word with its forms per locale.
WORDS = {
    "day": {
        "kk": {"one": "күн", "other": "күн"},
        "ru": {"one": "день", "few": "дня", "many": "дней"},
        "en": {"one": "day", "other": "days"},
    },
}


def plural(locale, n, word):
    """``plural("ru", 22, "day")`` → ``"22 дня"``."""
    forms = WORDS[word][locale]
    return f"{n} {forms[category(locale, n)]}"
