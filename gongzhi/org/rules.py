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


def mask_name(name: str) -> str:
    """张某 for a Chinese name (surname kept, the rest hidden); Z*** for a latin one."""
    value = name.strip()
    if not value:
        return ""
    if _CJK.match(value[0]):
        return value[0] + "某"
    return value[0] + "*" * max(len(value) - 1, 2)


def mask_address(address: str) -> str:
    """An address down to what an overseer needs: no house, building or room number."""
    value = address.strip()
    if not value:
        return ""
    return _ADDRESS_NUMBER.sub("**", value)


MASKERS = {"phone": mask_phone, "id_number": mask_id_number, "name": mask_name, "address": mask_address}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A number with what follows it as a house / building / unit / room marker (12号, 3栋, 2-202, 101室).
_ADDRESS_NUMBER = re.compile(r"[0-9０-９]+(?:[-－][0-9]+)*\s*(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|户)?"
                             r"|[A-Za-z]?[0-9]+(?:[-－][0-9]+)+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Stock filler that says nothing about a need, whatever its length.
_EMPTY_PURPOSES = frozenset({"测试", "无", "没有", "不知道", "随便", "看看", "查看", "test", "none", "n/a", "asdf"})


def is_meaningful_purpose(purpose: str) -> bool:
    """A purpose in real words (个人信息保护法 art. 6: a clear, reasonable purpose): at least two different
    Chinese characters, or at least three different latin words of two letters or more. Punctuation,
    digits, one repeated character and stock filler (测试, test) are not a purpose."""
    value = " ".join((purpose or "").split())
    if value.lower() in _EMPTY_PURPOSES:
        return False
    chinese = _CJK.findall(value)
    if len(set(chinese)) >= 2:
        return True
    words = {w.lower() for w in _LATIN_WORD.findall(value) if len(set(w.lower())) > 1}
    return len(words - _EMPTY_PURPOSES) >= 3


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
