"""Pure org rules: masking personal data, checking Chinese ID numbers and administrative codes."""

import datetime as dt
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def mask_phone(phone: str) -> str:
    """138****5678: keep the carrier prefix and the last four digits."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """110105**********23: region prefix kept, birth date and sequence hidden."""
    value = id_number.strip()
    if len(value) < 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 8) + value[-2:]


MASKERS = {"phone": mask_phone, "id_number": mask_id_number}


def id_number_check_digit(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """An 18-character resident ID number with a real birth date and a correct check character."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value or ""):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_number_check_digit(value[:17]) == value[17]


def is_valid_phone(value: str) -> bool:
    """A mainland mobile number (11 digits, 1[3-9]…) or a landline with area code (0xx-xxxxxxx)."""
    return bool(re.fullmatch(r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}", value or ""))


def is_valid_admin_code(value: str) -> bool:
    """A 12-digit statistical division code: 6-digit county, 3-digit township, 3-digit village."""
    return bool(re.fullmatch(r"[0-9]{12}", value or ""))
