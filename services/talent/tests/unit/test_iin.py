"""The official IIN checksum and what the number says about its holder."""
from datetime import date

import pytest

from talent.domain.iin import InvalidIin, make_iin, parse_iin, validate_iin

# Checked by hand: 8·1+7·2+0·3+2·4+2·5+8·6+4·7+0·8+1·9+2·10+3·11 = 178 ≡ 2 (mod 11).
VALID = [
    ("950314101238", date(1895, 3, 14), "male"),
    ("991231201233", date(1899, 12, 31), "female"),
    ("500701301231", date(1950, 7, 1), "male"),
    ("870228401232", date(1987, 2, 28), "female"),
    ("080520501230", date(2008, 5, 20), "male"),
    ("100109601239", date(2010, 1, 9), "female"),
]


@pytest.mark.parametrize("iin,born,sex", VALID)
def test_valid_iin_of_every_century_digit_gives_birth_date_and_sex(iin, born, sex):
    info = parse_iin(iin)
    assert info.birth_date == born and info.sex == sex
    assert validate_iin(iin, born) == info


@pytest.mark.parametrize("iin,born,sex", VALID)
def test_changing_the_check_digit_of_any_century_makes_it_invalid(iin, born, sex):
    wrong = iin[:11] + str((int(iin[11]) + 1) % 10)
    with pytest.raises(InvalidIin, match="check digit"):
        parse_iin(wrong)


def test_second_weights_are_used_when_the_first_sum_gives_ten():
    # first pass: 164 ≡ 10; second pass (3..11,1,2): 126 ≡ 5
    assert parse_iin("050115500805").birth_date == date(2005, 1, 15)
    with pytest.raises(InvalidIin):
        parse_iin("050115500800")


def test_iin_whose_both_sums_give_ten_is_invalid_whatever_its_last_digit():
    for last in "0123456789":
        with pytest.raises(InvalidIin):
            parse_iin("05011550088" + last)


@pytest.mark.parametrize("century_digit", ["0", "7", "8", "9"])
def test_century_digit_outside_one_to_six_is_invalid(century_digit):
    body = "870228" + century_digit + "0123"
    for last in "0123456789":
        with pytest.raises(InvalidIin, match="7th digit"):
            parse_iin(body + last)


@pytest.mark.parametrize("bad", ["", "87022840123", "8702284012321", "87022840123a", "８７０２２８４０１２３２", None, 870228401232])
def test_iin_must_be_exactly_twelve_ascii_digits(bad):
    with pytest.raises(InvalidIin):
        parse_iin(bad)


def test_first_six_digits_must_be_a_real_date():
    for body in ("870230", "871301", "870000"):  # 30 Feb, month 13, day 0
        iin_body = body + "40123"
        for last in "0123456789":
            with pytest.raises(InvalidIin):
                parse_iin(iin_body + last)


def test_iin_must_agree_with_birth_date_including_century():
    with pytest.raises(InvalidIin, match="birth date"):
        validate_iin("870228401232", date(1987, 2, 27))
    with pytest.raises(InvalidIin, match="birth date"):
        validate_iin("080520501230", date(1908, 5, 20))  # same YYMMDD, other century


def test_make_iin_builds_valid_numbers_for_fixtures():
    for born in (date(1890, 1, 1), date(1999, 9, 9), date(2011, 11, 11)):
        for sex in ("male", "female"):
            assert parse_iin(make_iin(born, sex)).sex == sex
