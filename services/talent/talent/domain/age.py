"""Age rules of the Talent Factory (contract §6)."""
from datetime import datetime

from demeu_common.errors import ValidationFailed

MIN_AGE = 14
ADULT_AGE = 18
AGE_BANDS = ((14, 17, "14-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"))


def age_on(birth_date, today):
    if isinstance(today, datetime):
        today = today.date()
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def age_band(age):
    """What the public sees instead of an age or a birth date."""
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "45+" if age >= 45 else None


def ensure_may_register(age, has_guardian_consent):
    if age < MIN_AGE:
        raise ValidationFailed(
            f"Talents must be at least {MIN_AGE}.", code="too_young",
            errors={"birth_date": [f"Must be at least {MIN_AGE} years old."]},
        )
    if age < ADULT_AGE and not has_guardian_consent:
        raise ValidationFailed(
            "Talents under 18 need a guardian's consent.", code="guardian_consent_required",
            errors={"guardian_consent": ["Required under 18."]},
        )


def is_eligible(age, min_age, max_age):
    return (min_age is None or age >= min_age) and (max_age is None or age <= max_age)
