"""Money as people read it: tiyn (int) → tenge with grouped thousands."""

# A plain space groups thousands and separates the sign; the brief allows a thin or a
# normal space, and a normal one survives every mail client and every `in` check.
GROUP_SEPARATOR = " "
DECIMAL_SEPARATOR = ","
TENGE_SIGN = "₸"


def group_thousands(number):
    digits = str(number)
    groups = []
    while digits:
        groups.append(digits[-3:])
        digits = digits[:-3]
    return GROUP_SEPARATOR.join(reversed(groups))


def format_tenge(tiyn):
    """``1_250_000`` → ``"12 500 ₸"``; ``1_250_050`` → ``"12 500,50 ₸"``. Ints only."""
    if isinstance(tiyn, bool) or not isinstance(tiyn, int):
        raise TypeError(f"money is int tiyn, not {type(tiyn).__name__}")
    sign = "−" if tiyn < 0 else ""
    tenge, rest = divmod(abs(tiyn), 100)
    text = group_thousands(tenge)
    if rest:
        text += f"{DECIMAL_SEPARATOR}{rest:02d}"
    return f"{sign}{text} {TENGE_SIGN}"


def format_money(amount, currency="KZT"):
    if currency in (None, "KZT"):
        return format_tenge(amount)
    tenge, rest = divmod(abs(amount), 100)
    text = group_thousands(tenge) + (f"{DECIMAL_SEPARATOR}{rest:02d}" if rest else "")
    return f"{'−' if amount < 0 else ''}{text} {currency}"
