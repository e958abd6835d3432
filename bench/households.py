"""Realistic households for the benchmarks: the browser's own data, as five years of a Korean
household's bookkeeping would leave it.

`household_backup(rows=8000, today=…)` is the JSON text of a Dexie dump of `ledgerDB` (the
format `extract-indexeddb.js` writes, SPEC §8), ready for `backup_import`:

- the SPA's default categories plus one of the household's own (쇼핑);
- a few recurring rules (salary, rent, phone, subscriptions, a variable electricity bill, a
  yearly car insurance …) with every occurrence the SPA generated: past ones confirmed, the
  rest of this month and next month's scheduled (the SPA's horizon);
- everyday spending filling up to `rows`, spread evenly over the five years up to `today`:
  mostly expenses, a handful of categories carrying most rows (식비, 카페, 교통비, 생필품),
  the odd income (캐시백, 중고거래), descriptions the way people type them.

Deterministic for a given `seed` and `today`.
"""

import datetime
import json
import random

from ledger.dates import add_months, clamped_date, iter_month_starts, month_start

YEARS = 5

# (category, emoji) as the SPA's Dexie `categories` table holds them, plus one of the user's own.
CATEGORIES = [
    ("식비", "🍽️"),
    ("간식류", "🍪"),
    ("카페", "☕"),
    ("농구 패배", "🏀"),
    ("교통비", "🚗"),
    ("문화생활", "🎭"),
    ("취미생활", "🎮"),
    ("의류", "👔"),
    ("생필품", "🛒"),
    ("미용", "💈"),
    ("의료비", "🏥"),
    ("교육", "📚"),
    ("월급", "💰"),
    ("월세", "🏠"),
    ("통신비", "📱"),
    ("구독료", "📺"),
    ("공과금", "⚡"),
    ("기타", "📝"),
    ("쇼핑", "🛍️"),
]

# (template name = description, amount or None for a variable amount, type, category,
#  frequency, day of month, variable amount range)
RULES = [
    ("월급", 3_250_000, "income", "월급", "monthly", 25, None),
    ("월세", 650_000, "expense", "월세", "monthly", 1, None),
    ("SKT 휴대폰 요금", 59_000, "expense", "통신비", "monthly", 15, None),
    ("넷플릭스", 17_000, "expense", "구독료", "monthly", 7, None),
    ("쿠팡와우", 7_890, "expense", "구독료", "monthly", 12, None),
    ("아파트 관리비", None, "expense", "공과금", "monthly", 27, (90_000, 260_000)),
    ("한전 전기요금", None, "expense", "공과금", "monthly", 20, (18_000, 95_000)),
    ("자동차보험", 720_000, "expense", "기타", "yearly", 3, None),
]

# category → (weight, (lowest, highest) won, descriptions)
EVERYDAY = {
    "식비": (
        34,
        (5_000, 48_000),
        [
            "점심",
            "점심 김치찌개",
            "저녁 외식",
            "이마트 장보기",
            "홈플러스 장보기",
            "배민 치킨",
            "배달 떡볶이",
            "김밥천국",
            "엄마랑 닭갈비",
            "고향포장마차",
            "쿤조 돈까스",
            "참설농탕",
            "동료들이랑 삼겹살",
            "마트 과일",
            "아이밀",
        ],
    ),
    "카페": (
        12,
        (2_000, 9_500),
        [
            "스타벅스 아아",
            "메가커피",
            "브루인 커피",
            "투썸에서 샌드위치랑 아아",
            "컴포즈커피",
            "빽다방",
            "카페 CHIPS 아아",
            "설빙",
        ],
    ),
    "간식류": (8, (1_200, 12_000), ["세븐일레븐", "GS25", "CU 과자", "붕어빵", "베스킨라빈스"]),
    "교통비": (
        11,
        (1_400, 32_000),
        [
            "지하철",
            "버스",
            "택시",
            "교통카드 충전",
            "주유",
            "카카오T 택시",
            "KTX",
        ],
    ),
    "생필품": (
        10,
        (1_000, 65_000),
        [
            "쿠팡",
            "다이소",
            "롯데마트맥스",
            "무인양품",
            "케첩, 두유",
            "휴지랑 세제",
            "올리브영",
        ],
    ),
    "문화생활": (4, (9_000, 90_000), ["CGV 영화", "전시회", "공연 티켓", "교보문고", "노래방"]),
    "취미생활": (3, (8_000, 150_000), ["자전거 용품", "보드게임", "캠핑 용품", "농구공"]),
    "의류": (3, (12_900, 189_000), ["유니클로", "무신사", "운동화", "겨울 패딩"]),
    "미용": (2, (10_000, 70_000), ["머리 커트", "리안헤어", "네일"]),
    "의료비": (3, (3_000, 120_000), ["약국", "치과", "내과", "안과 검진", "한의원"]),
    "교육": (2, (15_000, 350_000), ["온라인 강의", "책", "토익 접수"]),
    "기타": (4, (1_000, 100_000), ["경조사비", "선물", "카카오페이 송금", "택배비", "ATM 수수료"]),
    "쇼핑": (3, (9_900, 250_000), ["쿠팡 로켓배송", "네이버쇼핑", "11번가", "당근마켓 구매"]),
}
WITH_WHOM = ["엄마랑 ", "친구랑 ", "동료랑 ", "혼자 ", ""]
INCOME = [
    ("캐시백", (1_000, 30_000), "기타"),
    ("중고거래 판매", (5_000, 150_000), "기타"),
    ("용돈", (50_000, 300_000), "월급"),
]
INCOME_SHARE = 0.02


def _instant(day: datetime.date) -> str:
    """The SPA's stored date: midnight in Seoul as a UTC instant (25 July → 24th 15:00Z)."""
    return f"{day - datetime.timedelta(days=1):%Y-%m-%d}T15:00:00.000Z"


def _rule_dates(
    first_month: datetime.date, horizon: datetime.date, frequency: str, day_of_month: int
):
    for month in iter_month_starts(first_month, horizon):
        if frequency == "monthly" or month.month == first_month.month:
            yield clamped_date(month.year, month.month, day_of_month)


def household_backup(*, rows: int, today: datetime.date, seed: int = 17) -> str:
    """A Dexie export of `rows` transactions ending `today` (see the module docstring)."""
    rng = random.Random(f"{seed}:{rows}")
    first_month = add_months(month_start(today), -(12 * YEARS - 1))
    horizon = add_months(month_start(today), 1)
    categories = [
        {"id": n, "name": name, "emoji": emoji}
        for n, (name, emoji) in enumerate(CATEGORIES, start=1)
    ]
    rules, transactions = [], []
    for rule_id, (name, amount, kind, category, frequency, day, variable) in enumerate(
        RULES, start=1
    ):
        rules.append(
            {
                "id": rule_id,
                "template_name": name,
                "description": name,
                "amount": amount,
                "type": kind,
                "category": category,
                "frequency": frequency,
                "start_date": f"{first_month:%Y-%m}",
                "end_date": None,
                "day_of_month": day,
                "is_active": 1,
                "is_variable_amount": 1 if variable else 0,
            }
        )
        for date in _rule_dates(first_month, horizon, frequency, day):
            past = date <= today
            value = amount if variable is None else (rng.randrange(*variable, 10) if past else None)
            transactions.append(
                {
                    "description": name,
                    "amount": value,
                    "type": kind,
                    "date": _instant(date),
                    "category": category,
                    "status": "confirmed" if past else "scheduled",
                    "recurring_id": rule_id,
                }
            )

    span = (today - first_month).days
    names = list(EVERYDAY)
    weights = [EVERYDAY[name][0] for name in names]
    for _ in range(max(rows - len(transactions), 0)):
        date = first_month + datetime.timedelta(days=rng.randrange(span + 1))
        if rng.random() < INCOME_SHARE:
            description, (low, high), category = rng.choice(INCOME)
            kind = "income"
        else:
            category = rng.choices(names, weights)[0]
            _, (low, high), descriptions = EVERYDAY[category]
            description = rng.choice(descriptions)
            if category == "식비" and rng.random() < 0.2:
                description = rng.choice(WITH_WHOM) + description
            kind = "expense"
        transactions.append(
            {
                "description": description,
                "amount": rng.randrange(low, high, 100),
                "type": kind,
                "date": _instant(date),
                "category": category,
                "status": "confirmed",
                "recurring_id": None,
            }
        )
    # Dexie's auto-increment ids follow entry order: roughly by date, as people enter them.
    transactions.sort(key=lambda row: row["date"])
    for number, row in enumerate(transactions, start=1):
        row["id"] = number

    tables = [
        ("categories", categories),
        ("recurring_transactions", rules),
        ("transactions", transactions),
    ]
    return json.dumps(
        {
            "formatName": "dexie",
            "formatVersion": 1,
            "data": {
                "databaseName": "ledgerDB",
                "databaseVersion": 4,
                "tables": [
                    {"name": name, "schema": "++id", "rowCount": len(table_rows)}
                    for name, table_rows in tables
                ],
                "data": [
                    {"tableName": name, "inbound": True, "rows": table_rows}
                    for name, table_rows in tables
                ],
            },
        },
        ensure_ascii=False,
    )
