"""The Kazakh individual identification number (IIN, ЖСН/ИИН).

Twelve digits: YYMMDD birth date, a century-and-sex digit (1/2: 1800s, 3/4: 1900s,
5/6: 2000s; odd male, even female), four serial digits and a check digit. The check digit
is the sum of the first eleven digits weighted 1..11, mod 11; when that is 10 the weights
3..11,1,2 are used instead, and if that is 10 too the number is not valid.
"""
from dataclasses import dataclass
from datetime import date

FIRST_WEIGHTS = tuple(range(1, 12))
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class InvalidIin(ValueError):
    pass


@dataclass(frozen=True)
class IinInfo:
    birth_date: date
    sex: str  # "male" | "female"


def check_digit(digits):
    """The check digit of the first eleven ``digits``, or None when no digit can be."""
    first = sum(d * w for d, w in zip(digits, FIRST_WEIGHTS)) % 11
    if first != 10:
        return first
    second = sum(d * w for d, w in zip(digits, SECOND_WEIGHTS)) % 11
    return None if second == 10 else second


def parse_iin(iin):
    """Return what a valid IIN says about its holder; raise :class:`InvalidIin` otherwise."""
    if not isinstance(iin, str) or len(iin) != 12 or not iin.isascii() or not iin.isdigit():
        raise InvalidIin("An IIN is exactly 12 digits.")
    digits = [int(c) for c in iin]
    century_digit = digits[6]
    if century_digit not in CENTURY:
        raise InvalidIin("The 7th digit must be 1–6 (century and sex).")
    year = CENTURY[century_digit] + digits[0] * 10 + digits[1]
    month = digits[2] * 10 + digits[3]
    day = digits[4] * 10 + digits[5]
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidIin("The first six digits are not a date.")
    expected = check_digit(digits[:11])
    if expected is None or expected != digits[11]:
        raise InvalidIin("The check digit does not match.")
    return IinInfo(born, "male" if century_digit % 2 else "female")


def validate_iin(iin, birth_date):
    """Raise :class:`InvalidIin` unless ``iin`` is valid and encodes ``birth_date``."""
    info = parse_iin(iin)
    if info.birth_date != birth_date:
        raise InvalidIin("The IIN does not agree with the birth date.")
    return info


def make_iin(birth_date, sex="male", serial="0000"):
    """Build a valid IIN (tests and fixtures); tries serials until one has a check digit."""
    base = 2 * ((birth_date.year - 1800) // 100) + (1 if sex == "male" else 2)
    start = int(serial)
    for n in range(start, start + 10000):
        body = f"{birth_date:%y%m%d}{base}{n % 10000:04d}"
        digit = check_digit([int(c) for c in body])
        if digit is not None:
            return body + str(digit)
    raise ValueError("no serial gives a valid IIN")  # pragma: no cover
