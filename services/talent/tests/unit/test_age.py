from datetime import date, datetime, timezone

import pytest

from demeu_common.errors import ValidationFailed
from talent.domain.age import age_band, age_on, ensure_may_register, is_eligible


def test_age_counts_whole_years_including_birthday_and_leap_day():
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert age_on(date(2012, 3, 1), now) == 14
    assert age_on(date(2012, 3, 2), now) == 13
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_under_fourteen_is_too_young_even_with_consent():
    with pytest.raises(ValidationFailed) as error:
        ensure_may_register(13, has_guardian_consent=True)
    assert error.value.code == "too_young" and error.value.status == 422


def test_minor_needs_guardian_consent_and_adult_does_not():
    with pytest.raises(ValidationFailed) as error:
        ensure_may_register(17, has_guardian_consent=False)
    assert error.value.code == "guardian_consent_required"
    ensure_may_register(17, has_guardian_consent=True)
    ensure_may_register(18, has_guardian_consent=False)


def test_age_bands_hide_exact_age():
    assert [age_band(a) for a in (14, 17, 18, 30, 44, 70)] == ["14-17", "14-17", "18-24", "25-34", "35-44", "45+"]


def test_eligibility_bounds_are_inclusive_and_optional():
    assert is_eligible(16, 16, 18) and is_eligible(18, 16, 18)
    assert not is_eligible(15, 16, 18) and not is_eligible(19, 16, 18)
    assert is_eligible(99, None, None)
