"""`GET /categories/suggest` through HTTP: day-one knowledge, learning from the household's
own writes at once, types, isolation, the input's 400s, and a bounded query count."""

import datetime

import jsonschema
import pytest
from django.urls import reverse

from accounts.tests.admin_support import change_form_data
from ledger.models import Category, SuggestionGram, Transaction
from ledger.selectors.category_suggestions import HABIT_ONLY_SCALE
from ledger.services.ledgers import personal_ledger
from ledger.services.suggestions import evidence_in
from ledger.services.transactions import transaction_bulk_create, transaction_bulk_delete
from ledger.suggestion_grams import tally
from ledger.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

AUTH_QUERIES = 3  # at most: authentication, which reads the user with its personal ledger
SUGGEST_QUERIES = 1  # the categories the user may use and the evidence of the grams, together


def default(name):
    return Category.objects.get(ledger=None, name=name)


def suggest(client, description, type="expense", **extra):
    response = client.get(
        "/categories/suggest", {"description": description, "type": type, **extra}
    )
    assert response.status_code == 200, response.content
    return response.json()


def names(suggestions):
    return [row["category"]["name"] for row in suggestions]


def record(client, description, category, *, type="expense", date="2025-07-25", amount=7700):
    response = client.post(
        "/transactions",
        {
            "date": date,
            "description": description,
            "amount": amount,
            "type": type,
            "category": str(category.id),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def assert_param_error(response, name):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"][name]


# --- day one: built-in knowledge -------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("스타벅스", "카페"),
        ("스타벅스 라떼", "카페"),
        ("전기세", "공과금"),
        ("두통약", "의료비"),
        ("약국", "의료비"),
        ("가스비", "공과금"),
        ("프리티 유심", "통신비"),
        ("백소정 돈카츠", "식비"),
        ("배달의 민족", "식비"),
        ("쿠팡", "생필품"),
        ("쿠팡와우", "구독료"),  # the longer word decides
        ("넷플릭스", "구독료"),
        ("지하철", "교통비"),
        ("CGV 영화", "문화생활"),
        ("미용실 커트", "미용"),
    ],
)
def test_a_new_household_gets_suggestions_from_built_in_knowledge(
    auth_client, user, description, expected
):
    suggestions = suggest(auth_client(user), description)
    assert names(suggestions)[0] == expected
    assert 0 < suggestions[0]["score"] <= 1


def test_the_answer_is_up_to_three_categories_best_first_in_the_category_shape(auth_client, user):
    suggestions = suggest(auth_client(user), "투썸에서 샌드위치랑 아아")
    assert 1 <= len(suggestions) <= 3
    assert names(suggestions)[0] == "카페"  # 투썸 and 아아 outvote 샌드위치
    assert "식비" in names(suggestions)
    scores = [row["score"] for row in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) <= 1
    cafe = default("카페")
    assert suggestions[0]["category"] == {
        "id": str(cafe.id),
        "name": "카페",
        "emoji": "☕",
        "is_default": True,
        "created_at": suggestions[0]["category"]["created_at"],
    }


def test_a_word_hidden_in_another_word_does_not_count(auth_client, user):
    client = auth_client(user)
    assert "의료비" not in names(suggest(client, "식당 예약"))  # 약 of 예약 is no medicine
    assert "간식류" not in names(suggest(client, "cute 인형"))  # cu only as a word
    assert names(suggest(client, "CU 편의점"))[:2] in (["식비", "간식류"], ["간식류", "식비"])


def test_nothing_fits_gives_an_empty_list(auth_client, user):
    assert suggest(auth_client(user), "ㅋㅋㅋ zxqv") == []


# --- learning from the household's own history ------------------------------------------------


def test_one_row_teaches_what_this_household_calls_a_word(auth_client, user):
    client = auth_client(user)
    snacks = default("간식류")
    record(client, "아이밀", snacks)
    suggestions = suggest(client, "아이밀")
    assert names(suggestions)[0] == "간식류"
    assert suggestions[0]["score"] > 0.5
    # the grams carry over to a longer note
    assert names(suggest(client, "아이밀 두 개"))[0] == "간식류"


def test_history_wins_over_knowledge_for_what_the_household_repeats(auth_client, user):
    client = auth_client(user)
    basketball = default("농구 패배")
    record(client, "카페 CHIPS", basketball)
    record(client, "카페 CHIPS", basketball)
    assert names(suggest(client, "카페 CHIPS"))[0] == "농구 패배"
    assert names(suggest(client, "스타벅스"))[0] == "카페"  # nothing learned about this one


def test_a_recategorization_takes_effect_on_the_next_request(auth_client, user):
    client = auth_client(user)
    row = record(client, "아이밀", default("간식류"))
    assert names(suggest(client, "아이밀"))[0] == "간식류"

    response = client.patch(
        f"/transactions/{row}", {"category": str(default("식비").id)}, format="json"
    )
    assert response.status_code == 200
    suggestions = suggest(client, "아이밀")
    assert names(suggestions)[0] == "식비"
    assert "간식류" not in names(suggestions)


def test_editing_the_description_or_type_moves_what_the_row_teaches(auth_client, user):
    client = auth_client(user)
    row = record(client, "아이밀", default("간식류"))
    client.patch(f"/transactions/{row}", {"description": "무지개떡"}, format="json")
    [learned] = suggest(client, "무지개떡")
    assert (learned["category"]["name"], learned["score"] > 0.5) == ("간식류", True)
    # 아이밀 is unknown again: only the household's habits answer, at a low score
    [habit] = suggest(client, "아이밀")
    assert (habit["category"]["name"], habit["score"]) == ("간식류", HABIT_ONLY_SCALE)
    client.patch(f"/transactions/{row}", {"type": "income"}, format="json")
    assert names(suggest(client, "무지개떡", type="income")) == ["간식류"]
    assert suggest(client, "무지개떡") == []  # no expense history left, no built-in word


def test_a_deleted_row_teaches_nothing_any_more(auth_client, user):
    client = auth_client(user)
    row = record(client, "아이밀", default("간식류"))
    assert client.delete(f"/transactions/{row}").status_code == 204
    assert suggest(client, "아이밀") == []


def test_recent_rows_weigh_more_than_older_ones(auth_client, user):
    client = auth_client(user)
    for day in ("2025-01-03", "2025-01-10", "2025-01-17"):
        record(client, "쿠팡", default("생필품"), date=day)
    record(client, "쿠팡", default("구독료"), date="2025-07-30")  # the household changed its mind
    assert names(suggest(client, "쿠팡"))[:2] == ["구독료", "생필품"]


def test_an_own_category_is_learned_and_its_name_counts_as_a_word(auth_client, user):
    client = auth_client(user)
    dog = CategoryFactory(user=user, name="강아지", emoji="🐶")
    assert names(suggest(client, "강아지 사료"))[0] == "강아지"
    record(client, "로얄캐닌", dog)
    assert names(suggest(client, "로얄캐닌"))[0] == "강아지"


def test_deleting_a_category_forgets_what_it_was_used_for(auth_client, user):
    client = auth_client(user)
    own = CategoryFactory(user=user, name="아기")
    record(client, "아이밀", own)
    assert client.delete(f"/categories/{own.id}").status_code == 200
    assert suggest(client, "아이밀") == []
    assert not SuggestionGram.objects.filter(category_id=own.id).exists()


def test_a_change_in_the_admin_takes_effect_too(auth_client, user, superuser_client):
    client = auth_client(user)
    row = Transaction.objects.get(pk=record(client, "아이밀", default("간식류")))
    url = reverse("admin:ledger_transaction_change", args=[row.pk])
    page = superuser_client.get(url)
    response = superuser_client.post(url, change_form_data(page, category=str(default("식비").pk)))
    assert response.status_code == 302
    assert names(suggest(client, "아이밀")) == ["식비"]


def test_the_evidence_always_equals_what_the_rows_say(auth_client, user):
    # given a history built and rewritten through every writer
    client = auth_client(user)
    rows = [
        record(client, text, default(name), date=day)
        for text, name, day in [
            ("아이밀", "식비", "2025-07-01"),
            ("아이밀", "식비", "2025-07-02"),
            ("쿠팡", "생필품", "2025-07-03"),
            ("월급", "월급", "2025-07-25"),
        ]
    ]
    client.patch(f"/transactions/{rows[0]}", {"date": "2025-05-01"}, format="json")
    client.patch(f"/transactions/{rows[1]}", {"category": None}, format="json")
    client.put(
        f"/transactions/{rows[2]}",
        {
            "date": "2025-07-04",
            "description": "다이소",
            "amount": 3000,
            "type": "expense",
            "category": str(default("생필품").id),
        },
        format="json",
    )
    client.delete(f"/transactions/{rows[3]}")
    prepared = [
        Transaction(
            ledger=personal_ledger(user=user),
            date=datetime.date(2025, 7, day),
            description="카페 CHIPS 아아",
            amount=4800,
            type="expense",
            category=default("카페"),
        )
        for day in (5, 6, 7)
    ]
    transaction_bulk_create(ledger=personal_ledger(user=user), transactions=prepared)
    transaction_bulk_delete(
        ledger=personal_ledger(user=user), queryset=Transaction.objects.filter(pk=prepared[0].pk)
    )
    # then the stored evidence is exactly a fresh count of the rows as they are
    expected = tally(added=evidence_in(Transaction.objects.filter(ledger__personal_for=user)))
    stored = {
        (str(row.ledger_id), row.type, row.gram, str(row.category_id)): [row.count, row.weight]
        for row in SuggestionGram.objects.filter(ledger__personal_for=user)
    }
    assert stored.keys() == expected.keys()
    for key, (count, weight) in expected.items():
        assert stored[key][0] == count
        assert stored[key][1] == pytest.approx(weight, rel=1e-9)


# --- types, isolation, what may be suggested -------------------------------------------------


def test_income_and_expense_do_not_mix(auth_client, user):
    client = auth_client(user)
    assert names(suggest(client, "월급", type="income"))[0] == "월급"
    assert "월급" not in names(suggest(client, "월급"))
    assert "카페" not in names(suggest(client, "스타벅스", type="income"))
    # the household's income rows teach nothing about expenses
    record(client, "식대", default("식비"), type="income")
    assert names(suggest(client, "식대", type="income"))[0] == "식비"
    assert "식비" not in names(suggest(client, "식대"))


def test_another_households_history_never_changes_my_suggestions(auth_client, user, other_user):
    mine, theirs = auth_client(user), auth_client(other_user)
    record(mine, "아이밀", default("식비"))
    before = suggest(mine, "아이밀")
    strange = CategoryFactory(user=other_user, name="이상한 분류")
    for _ in range(5):
        record(theirs, "아이밀", strange)
        record(theirs, "아이밀", default("교육"))
    after = suggest(mine, "아이밀")
    assert after == before
    assert names(suggest(theirs, "아이밀"))[0] in ("이상한 분류", "교육")


def test_only_categories_i_may_use_are_suggested(auth_client, user, other_user):
    CategoryFactory(user=other_user, name="강아지")  # someone else's own category
    suggestions = suggest(auth_client(user), "강아지 사료")
    allowed = {str(pk) for pk in Category.objects.filter(ledger=None).values_list("pk", flat=True)}
    assert {row["category"]["id"] for row in suggestions} <= allowed
    assert "강아지" not in names(suggestions)


def test_posting_a_transaction_without_category_stays_uncategorized(auth_client, user):
    client = auth_client(user)
    response = client.post(
        "/transactions",
        {"date": "2025-07-25", "description": "스타벅스", "amount": 4500, "type": "expense"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["category"], body["category_name"]) == (None, None)
    assert Transaction.objects.get(pk=body["id"]).category_id is None


# --- input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "expense"}, "description"),
        ({"description": "", "type": "expense"}, "description"),
        ({"description": "   ", "type": "expense"}, "description"),
        ({"description": "커피" * 251, "type": "expense"}, "description"),
        ({"description": "커피"}, "type"),
        ({"description": "커피", "type": "transfer"}, "type"),
        ({"description": "커피", "type": "expense", "amount": "abc"}, "amount"),
        ({"description": "커피", "type": "expense", "amount": "-100"}, "amount"),
        ({"description": "커피", "type": "expense", "amount": "0"}, "amount"),
        ({"description": "커피", "type": "expense", "amount": "NaN"}, "amount"),
        ({"description": "커피", "type": "expense", "amount": "1.234"}, "amount"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(auth_client, user, query, field):
    assert_param_error(auth_client(user).get("/categories/suggest", query), field)


def test_an_amount_and_a_500_character_description_are_accepted(auth_client, user):
    client = auth_client(user)
    assert names(suggest(client, "스타벅스", amount="4500"))[0] == "카페"
    assert names(suggest(client, "스타벅스" + "가" * 496))[0] == "카페"


def test_the_path_does_not_clash_with_a_category_id(auth_client, user):
    client = auth_client(user)
    assert client.get(f"/categories/{default('카페').id}").status_code == 200
    assert client.get("/categories/suggest").status_code == 400
    assert client.get("/categories/suggestion").status_code == 404


def test_the_answer_carries_the_revision_etag(auth_client, user):
    client = auth_client(user)
    query = {"description": "아이밀", "type": "expense"}
    first = client.get("/categories/suggest", query)
    assert (
        client.get("/categories/suggest", query, HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 304
    )
    record(client, "아이밀", default("간식류"))
    again = client.get("/categories/suggest", query, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert names(again.json())[0] == "간식류"


def test_needs_authentication(api_client):
    response = api_client.get("/categories/suggest", {"description": "커피", "type": "expense"})
    assert response.status_code == 401


def test_query_count_does_not_grow_with_the_history(
    auth_client, user, django_assert_max_num_queries
):
    client = auth_client(user)
    rows = [
        Transaction(
            ledger=personal_ledger(user=user),
            date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i),
            description=f"아이밀 {i % 7}",
            amount=7700,
            type="expense",
            category=default("식비" if i % 3 else "간식류"),
        )
        for i in range(300)
    ]
    transaction_bulk_create(ledger=personal_ledger(user=user), transactions=rows)
    with django_assert_max_num_queries(AUTH_QUERIES + SUGGEST_QUERIES):
        suggestions = suggest(client, "아이밀 3")
    assert names(suggestions)[:2] == ["식비", "간식류"]


def test_the_schema_describes_the_answer_and_its_example_validates(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/categories/suggest"]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/CategorySuggestion"},
    }
    validator = jsonschema.Draft4Validator(
        {**ok["schema"], "components": schema["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
    for example in ok["examples"].values():
        validator.validate(example["value"])
        assert example["value"][0]["category"]["name"] == "카페"
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert {name for name, p in parameters.items() if p.get("required")} == {"description", "type"}
    for example in operation["responses"]["400"]["content"]["application/json"][
        "examples"
    ].values():
        assert set(example["value"]["error"]["fields"]) <= set(parameters)


def test_the_answer_validates_against_the_schema(auth_client, user, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ok = schema["paths"]["/categories/suggest"]["get"]["responses"]["200"]["content"]
    validator = jsonschema.Draft4Validator(
        {**ok["application/json"]["schema"], "components": schema["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
    answer = suggest(auth_client(user), "투썸에서 샌드위치랑 아아")
    assert answer
    validator.validate(answer)
