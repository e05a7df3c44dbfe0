"""Personal data out of free text shown to people with no need for it (个人信息保护法): ID and card numbers,
mobile and landline numbers, e-mail addresses, house numbers, and names the caller knows of.

A pure rule, no Django. Where it runs (issue #13 item 2):
- Text that is public by nature — everything typed in deliberation (topics and their evidence, comments,
  statements, meetings, motions, stage reasons, disclosures, objections and answers) and the published
  texts of duties (decisions, goals, tasks, reports, reviews, needs, resources, projects) — is scrubbed
  when it is stored (`core.text.clean_public_text`, called by those services), so no page, API answer,
  ledger entry or future view can show it; nobody is entitled to a phone number typed into a public
  notice. Rows stored earlier were scrubbed by a data migration in each app.
- Text that is private with public views — a demand's description, seen in full by those handling it —
  is stored as typed and scrubbed where it is shown to others (Open311's public answers, insight's samples).
`scrub_findings` tells the author, while they type and after posting (core.preview), what was masked.

Numbers are caught however residents write them: with up to three spaces, dashes, dots, Chinese commas
or brackets between the digits (138 1234 5678, 138 - 1234 - 5678, 138，1234，5678, (138)1234-5678, +86 138…), in full-width digits, an ID number in groups (110101 19900307
123X), a landline with its area code (010-12345678, 0571 8765 4321, (010)12345678) or a bare 7-8 digit
local number after a word that says it is one (电话 8765 4321). Ordinary numbers stay: amounts
(120000元), dates (2026-12-07), years, counts, a building alone (3号楼).
"""

import re
from dataclasses import dataclass

# Full-width digits and punctuation typed by Chinese input methods, read as their ASCII forms (one
# character for one, so the rest of the text is untouched).
_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                        "－": "-", "（": "(", "）": ")", "＋": "+", "．": ".", "\u3000": " ",
                        "Ｘ": "X", "ｘ": "x"})

# Between two digits: up to three separators (138 - 1234 - 5678, 138，1234，5678, (138)1234-5678). The ASCII
# comma is left out: 1,380,000 is an amount.
_SEP = r"[ \t\u00a0\-‐‑–—.·，、()]{0,3}"
_NOT_BEFORE = r"(?<!\d)"               # a number starts here, not inside another
_NOT_AFTER = r"(?!\d)"

EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# 15 to 19 digits (an ID number of 18 with an X check digit, an old one of 15, a bank card of 16-19).
LONG_NUMBER = re.compile(_NOT_BEFORE + r"\d(?:" + _SEP + r"\d){13,17}(?:" + _SEP + r"[\dXx])" + r"(?![\d])")
MOBILE = re.compile(_NOT_BEFORE + r"(?:(?:\+|00)\s?86[ \-]?|86[ \-]?)?(1" + _SEP + r"[3-9](?:" + _SEP + r"\d){9})" + _NOT_AFTER)
# Area code 010 / 02x (three digits) or 0xxx (four), then 7-8 digits, perhaps an extension.
LANDLINE = re.compile(_NOT_BEFORE + r"(?:\(\s?(0\d{2,3})\s?\)\s?|(0\d{2,3})" + _SEP + r")"
                      r"(\d{3,4}" + _SEP + r"\d{4})(?:\s?(?:转|-|ext\.?)\s?\d{1,5})?" + _NOT_AFTER)
# A bare local number, only where a word says it is a phone number (a date or an amount never is).
LOCAL_NUMBER = re.compile(r"((?:电话|手机|座机|固话|联系方式|号码|热线|[Tt]el|TEL|☎)[号]?[码]?\s?[:：是为]?\s?)"
                          r"(\d{3,4}" + _SEP + r"\d{4})" + _NOT_AFTER)

_CN_NUM = r"(?:\d{1,4}|[一二三四五六七八九十]{1,3})"
_BUILDING = _CN_NUM + r"\s?(?:号楼|号院|栋|幢|座|号|区)"
_UNIT = _CN_NUM + r"\s?单元"
_FLOOR = r"\d{1,2}\s?[层楼]"
_ROOM = r"\d{2,5}\s?(?:室|号房|房间|房|户|号)?"
# What comes after a road's number: building, unit, floor, room in any of the usual spellings.
_HOUSE_TAIL = (r"(?:\s?(?:" + _BUILDING + r"|" + _UNIT + r"|" + _FLOOR + r"|\d{1,4}\s?(?:室|号房|房间|房|户)"
               r"|[-之]\d{1,4}|\d{1,4}(?![\d年月日元万千百块岁个人次天周点分秒米%]))){0,5}")
ROAD_NUMBER = re.compile(r"((?:路|街|巷|弄|胡同|大道|里弄)\s?)\d{1,5}(?:\s?[-之]\s?\d{1,4})?\s?号院?(?!码|线|文)"
                         + _HOUSE_TAIL)
VILLAGE_NUMBER = re.compile(r"((?:\d{1,2}|[一二三四五六七八九十]{1,3})\s?(?:组|社|队)\s?)\d{1,4}\s?号(?!码|线|文)" + _HOUSE_TAIL)
# A household without a road: 3栋2单元501, 5号楼1201室, 2单元501, 501室, 3-2-501.
HOUSEHOLD = re.compile(r"(?:" + _BUILDING + r"\s?)?" + _UNIT + r"\s?(?:" + _FLOOR + r"\s?)?" + _ROOM
                       + r"(?!\d)"
                       r"|" + _BUILDING + r"\s?(?:" + _FLOOR + r"\s?)?\d{2,5}\s?(?:室|号房|房间|房|户)"
                       r"|(?<![\d.:/-])\d{3,5}\s?(?:室|号房)"
                       r"|" + _BUILDING + r"[-—]?\d{3,4}(?![\d年月日元万千百块岁个人次天周点分秒米%.:/-])"
                       r"|(?<![\d.:/-])\d{1,3}-\d{1,2}-\d{3,4}(?![\d.:/-])")

ID_NUMBER = LONG_NUMBER  # kept for callers that named the old pattern
PHONE = MOBILE


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text: what kind, and how it is shown instead."""
    kind: str        # "id_number", "card_number", "mobile", "landline", "email", "address", "name"
    original: str
    shown_as: str


def _digits(value: str) -> str:
    return re.sub(r"[^\dXx]", "", value)


def scrub_findings(text: str, names=()) -> tuple[str, list[Finding]]:
    """The text as the public may see it, and each piece of personal data that was masked. Patterns are
    matched on a copy with full-width digits read as ASCII; what is not masked keeps its own characters
    (（）stay full-width)."""
    if not text:
        return text or "", []
    findings: list[Finding] = []
    value, seen = text, text.translate(_WIDTH)  # the same length, character for character

    def sub(pattern, replace, kind, kept=lambda match: "", kind_of=None):
        nonlocal value, seen
        out_value, out_seen, at = [], [], 0
        for match in pattern.finditer(seen):
            start, end = match.span()
            prefix = len(kept(match))  # kept as typed (a road's name, "电话："): not part of the finding
            shown = replace(match)[prefix:]
            original = value[start + prefix:end]
            findings.append(Finding(kind_of(shown) if kind_of else kind, original, shown))
            out_value += [value[at:start + prefix], shown]
            out_seen += [seen[at:start + prefix], shown]
            at = end
        value = "".join(out_value) + value[at:]
        seen = "".join(out_seen) + seen[at:]

    sub(EMAIL, lambda m: m.group(1)[0] + "***@" + m.group(2), "email")

    def long_number(m):
        digits = _digits(m.group(0))
        if re.fullmatch(r"(?:0086|86)1[3-9]\d{9}", digits):
            return digits[-11:-8] + "****" + digits[-4:]
        if len(digits) in (15, 18):
            return "[身份证号]"
        return "[卡号]"
    sub(LONG_NUMBER, long_number, "", kind_of=lambda shown: {"[身份证号]": "id_number",
                                                            "[卡号]": "card_number"}.get(shown, "mobile"))
    sub(MOBILE, lambda m: (d := _digits(m.group(1)))[:3] + "****" + d[-4:], "mobile")
    sub(LANDLINE, lambda m: (m.group(1) or m.group(2)) + "-****" + _digits(m.group(3))[-4:], "landline")
    sub(LOCAL_NUMBER, lambda m: m.group(1) + "****" + _digits(m.group(2))[-4:], "landline",
        kept=lambda m: m.group(1))
    sub(ROAD_NUMBER, lambda m: m.group(1) + "**号", "address", kept=lambda m: m.group(1))
    sub(VILLAGE_NUMBER, lambda m: m.group(1) + "**号", "address", kept=lambda m: m.group(1))
    sub(HOUSEHOLD, lambda m: "**", "address")
    for name in names:
        if name and len(name) > 1 and name in value:
            shown = name[0] + "某"
            findings.append(Finding("name", name, shown))
            value = value.replace(name, shown)
    return value, findings


def scrub(text: str, names=()) -> str:
    """The text with personal data masked, as anyone may see it."""
    return scrub_findings(text, names)[0]
