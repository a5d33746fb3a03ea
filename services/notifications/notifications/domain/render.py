"""Turn a notification's stored parameters into a title and body in one locale."""
from demeu_common.reference import LOCALES

from notifications.domain.money import format_money
from notifications.domain.plurals import plural
from notifications.domain.templates import TEMPLATES

DEFAULT_LOCALE = "ru"
MONEY_FIELDS = ("amount", "raised_amount", "goal_amount", "remaining_amount")


def normalize_locale(locale):
    return locale if locale in LOCALES else DEFAULT_LOCALE


def render(notification_type, locale, params):
    """→ ``(title, body)``. ``params`` are raw (amounts in tiyn, counts as ints)."""
    locale = normalize_locale(locale)
    texts = TEMPLATES[notification_type][locale]
    values = _SafeDict(params)
    currency = params.get("currency") or "KZT"
    for field in MONEY_FIELDS:
        if isinstance(params.get(field), int) and not isinstance(params.get(field), bool):
            values[field] = format_money(params[field], currency)
    variant = "body"
    if "days" in texts.get("body", "") and "body_undated" in texts:
        if isinstance(params.get("days"), int) and params["days"] > 0:
            values["days"] = plural(locale, params["days"], "day")
        else:
            variant = "body_undated"
    if notification_type == "donation.received" and params.get("anonymous"):
        variant = "body_anonymous"
    return texts["title"].format_map(values), texts[variant].format_map(values)


class _SafeDict(dict):
    """A missing value renders as nothing rather than failing the whole notification."""

    def __missing__(self, key):
        return ""
