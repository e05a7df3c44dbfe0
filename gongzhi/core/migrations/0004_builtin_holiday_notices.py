"""The holiday notices gongzhi shipped as code (demands/calendar.py until issue #15), loaded as the office's
entries: the State Council General Office's notices for 2024, 2025 and 2026, transcribed from the notices.
A holiday joined to a weekend lists only what the notice gives off; weekends are days off anyway. Each
year's weekdays off less its adjusted working days make the statutory count (11; 13 from 2025): validated
again by core/tests/test_workdays.py against the chinese-calendar library. No event is recorded here: these
years are part of the installed software (as the code's table was); the ledger records the office's changes."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NOTICES = [
    {"year": 2024, "title": "国务院办公厅关于2024年部分节假日安排的通知", "number": "国办发明电〔2023〕7号",
     "published_on": "2023-10-25",
     "holidays": [("元旦", "01-01", "01-01"), ("春节", "02-10", "02-17"), ("清明节", "04-04", "04-06"),
                  ("劳动节", "05-01", "05-05"), ("端午节", "06-10", "06-10"), ("中秋节", "09-15", "09-17"),
                  ("国庆节", "10-01", "10-07")],
     "working": [("春节", "02-04"), ("春节", "02-18"), ("清明节", "04-07"), ("劳动节", "04-28"), ("劳动节", "05-11"),
                 ("中秋节", "09-14"), ("国庆节", "09-29"), ("国庆节", "10-12")]},
    # The first year under the November 2024 amendment of 《全国年节及纪念日放假办法》 (除夕 and 5月2日 added).
    {"year": 2025, "title": "国务院办公厅关于2025年部分节假日安排的通知", "number": "国办发明电〔2024〕12号",
     "published_on": "2024-11-12",
     "holidays": [("元旦", "01-01", "01-01"), ("春节", "01-28", "02-04"), ("清明节", "04-04", "04-06"),
                  ("劳动节", "05-01", "05-05"), ("端午节", "05-31", "06-02"), ("国庆节、中秋节", "10-01", "10-08")],
     "working": [("春节", "01-26"), ("春节", "02-08"), ("劳动节", "04-27"), ("国庆节、中秋节", "09-28"),
                 ("国庆节、中秋节", "10-11")]},
    {"year": 2026, "title": "国务院办公厅关于2026年部分节假日安排的通知", "number": "",
     "published_on": "2025-11-04",
     "holidays": [("元旦", "01-01", "01-03"), ("春节", "02-15", "02-23"), ("清明节", "04-04", "04-06"),
                  ("劳动节", "05-01", "05-05"), ("端午节", "06-19", "06-21"), ("中秋节", "09-25", "09-27"),
                  ("国庆节", "10-01", "10-07")],
     "working": [("元旦", "01-04"), ("春节", "02-14"), ("春节", "02-28"), ("劳动节", "05-09"), ("国庆节", "09-20"),
                 ("国庆节", "10-10")]},
]


def load(apps, schema_editor):
    HolidayNotice = apps.get_model("core", "HolidayNotice")
    NoticeDay = apps.get_model("core", "NoticeDay")
    now = timezone.now()
    for spec in NOTICES:
        year = spec["year"]
        if HolidayNotice.objects.filter(year=year).exists():
            continue
        notice = HolidayNotice.objects.create(year=year, title=spec["title"], number=spec["number"],
                                              published_on=dt.date.fromisoformat(spec["published_on"]),
                                              source="builtin", imported_at=now)
        days = []
        for name, first, last in spec["holidays"]:
            day, end = dt.date.fromisoformat(f"{year}-{first}"), dt.date.fromisoformat(f"{year}-{last}")
            while day <= end:
                days.append(NoticeDay(notice=notice, day=day, kind="holiday", name=name))
                day += dt.timedelta(days=1)
        days += [NoticeDay(notice=notice, day=dt.date.fromisoformat(f"{year}-{d}"), kind="working", name=name)
                 for name, d in spec["working"]]
        NoticeDay.objects.bulk_create(days)


def unload(apps, schema_editor):
    apps.get_model("core", "HolidayNotice").objects.filter(source="builtin").delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0003_holiday_notices")]
    operations = [migrations.RunPython(load, unload)]
