"""Personal data out of free text shown to people with no need for it (个人信息保护法): ID numbers, mobile
numbers, and names the caller knows of."""

import re

PHONE = re.compile(r"1[3-9]\d{9}")
ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def scrub(text: str, names=()) -> str:
    text = ID_NUMBER.sub("[身份证号]", text)
    text = PHONE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)
    for name in names:
        if name:
            text = text.replace(name, name[0] + "某")
    return text
