"""A real browser: the SPA's Dexie database → extract-indexeddb.js → download → import.

Headless Debian Chromium driven by Playwright (the system browser; `playwright install` is
never used). Dexie comes from the npm registry at test time, pinned, into the git-ignored
`.browser-deps/`; the page is served by a local HTTP server. Skipped only where Chromium
is not installed (`.ci/run` installs it).
"""

import contextlib
import datetime
import functools
import http.server
import json
import shutil
import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "ledger" / "static" / "ledger" / "extract-indexeddb.js"
DEXIE_VERSION = "4.4.7"
BROWSER_DEPS = ROOT / ".browser-deps"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.django_db

# The SPA's Dexie v4 schema, and rows the way the SPA wrote them: Dates made from local
# (Seoul) dates, auto-increment ids, day_of_month as a string, a null rule amount.
PAGE = """<!doctype html>
<html lang="ko"><meta charset="utf-8"><title>가계부</title>
<script src="dexie.js"></script>
<script>
window.seeded = (async () => {
  const db = new Dexie("ledgerDB");
  db.version(4).stores({
    transactions: "++id, date, description, amount, type, category, status, recurring_id",
    recurring_transactions: "++id, template_name, description, amount, type, frequency, " +
      "start_date, end_date, day_of_month, is_active, is_variable_amount",
    categories: "++id, name, emoji",
  });
  await db.categories.bulkAdd([
    {name: "식비", emoji: "🍽️"}, {name: "월세", emoji: "🏠"}, {name: "공과금", emoji: "⚡"},
    {name: "쇼핑", emoji: "🛍️"}, {name: "월급", emoji: "💰"},
  ]);
  const rent = await db.recurring_transactions.add({
    template_name: "월세", description: "원룸 월세", amount: 550000, type: "expense",
    category: "월세", frequency: "monthly", start_date: "2025-06", end_date: null,
    day_of_month: "25", is_active: true, is_variable_amount: false,
  });
  const power = await db.recurring_transactions.add({
    template_name: "전기요금", description: "", amount: null, type: "expense",
    category: "⚡ 공과금", frequency: "monthly", start_date: "2025-07", end_date: "2025-12",
    day_of_month: 31, is_active: true, is_variable_amount: true,
  });
  await db.transactions.bulkAdd([
    {description: "원룸 월세", amount: 550000, type: "expense", date: new Date(2025, 5, 25),
     category: "월세", status: "confirmed", recurring_id: rent},
    {description: "원룸 월세", amount: 550000, type: "expense", date: new Date(2025, 6, 25),
     category: "월세", status: "confirmed", recurring_id: rent},
    {description: "전기요금", amount: null, type: "expense", date: new Date(2025, 7, 31),
     category: "공과금", status: "scheduled", recurring_id: power},
    {description: "브루인 커피 3명", amount: 5400, type: "expense",
     date: "2025-07-24T15:00:00.000Z", category: "쇼핑"},
    {description: "월급", amount: "2,031,940", type: "income", date: new Date(2025, 6, 30),
     category: "💰 월급", status: "confirmed", recurring_id: null},
    {description: "새벽 편의점", amount: 3200.0, type: "expense",
     date: new Date(2025, 6, 1, 0, 30), category: "식비", status: "confirmed"},
  ]);
  const many = [];
  for (let i = 0; i < 500; i++) {
    many.push({description: "점심 " + i, amount: 8000 + i, type: "expense",
               date: new Date(2025, 4, 1 + (i % 28)), category: "식비", status: "confirmed",
               recurring_id: null});
  }
  await db.transactions.bulkAdd(many);
  const counts = {transactions: await db.transactions.count(),
                  recurring_transactions: await db.recurring_transactions.count(),
                  categories: await db.categories.count()};
  db.close();
  return counts;
})();
</script>
</html>
"""


def _dexie_js() -> Path:
    """Dexie from the npm registry, pinned, in the git-ignored .browser-deps/."""
    package = BROWSER_DEPS / "node_modules" / "dexie"
    installed = None
    if (package / "package.json").exists():
        installed = json.loads((package / "package.json").read_text())["version"]
    if installed != DEXIE_VERSION:
        npm = shutil.which("npm")
        assert npm, "npm is needed to install Dexie for the browser test (node 20 + npm)"
        BROWSER_DEPS.mkdir(exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(BROWSER_DEPS),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"dexie@{DEXIE_VERSION}",
            ],
            check=True,
            timeout=300,
            capture_output=True,
        )
    return package / "dist" / "dexie.js"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def spa_page_url(tmp_path):
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    shutil.copy(_dexie_js(), tmp_path / "dexie.js")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def chromium_page():
    """A page in headless Chromium, closed again before the test touches the database
    (Playwright's sync API runs an event loop, inside which Django refuses DB access)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The SPA's users are in Korea: their browser makes Dates in Asia/Seoul.
        context = browser.new_context(timezone_id="Asia/Seoul", accept_downloads=True)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.mark.browser
def test_extraction_script_downloads_ledgerdb_and_the_file_imports(
    spa_page_url, auth_client, user, tmp_path
):
    with chromium_page() as page:
        # given: the SPA's database, filled by Dexie in a real browser
        page.goto(spa_page_url)
        counts = page.evaluate("window.seeded")
        # when: the user pastes the extraction script into the console
        with page.expect_download() as download_info:
            result = page.evaluate("(source) => (0, eval)(source)", SCRIPT.read_text())
        download = download_info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        filename = download.suggested_filename

    assert counts == {"transactions": 506, "recurring_transactions": 2, "categories": 5}
    # then: the file is a dexie-export-import dump of all three tables
    assert result["rows"] == counts
    assert filename == result["filename"]
    assert filename.startswith("ledgerDB-")
    dump = json.loads(saved.read_text(encoding="utf-8"))
    assert dump["formatName"] == "dexie" and dump["formatVersion"] == 1
    assert dump["data"]["databaseName"] == "ledgerDB" and dump["data"]["databaseVersion"] == 4
    schemas = {t["name"]: t["schema"] for t in dump["data"]["tables"]}
    assert schemas["categories"] == "++id,emoji,name"
    first = dump["data"]["data"][
        [t["tableName"] for t in dump["data"]["data"]].index("transactions")
    ]["rows"][0]
    assert first["$types"] == {"date": "date"} and isinstance(first["date"], int)

    # and it imports through the API (on the day of the SPA's backup, 2 August 2025)
    with time_machine.travel(datetime.datetime(2025, 8, 2, 9, 0, tzinfo=datetime.UTC)):
        response = auth_client(user).post(
            "/backup/import",
            {"file": SimpleUploadedFile(saved.name, saved.read_bytes(), "application/json")},
            format="multipart",
        )
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["format"] == "dexie"
    assert report["created"]["transactions"] == 506
    assert report["created"]["recurring_transactions"] == 2
    assert report["created"]["occurrences"] == 3

    rent = RecurringTransaction.objects.get(ledger__personal_for=user, template_name="월세")
    assert rent.day_of_month == 25 and rent.amount == Decimal("550000")
    assert rent.start_date == datetime.date(2025, 6, 1) and rent.end_date is None
    power = RecurringTransaction.objects.get(ledger__personal_for=user, template_name="전기요금")
    assert power.amount is None and power.is_variable_amount
    assert power.end_date == datetime.date(2025, 12, 31)
    assert power.category == Category.objects.get(ledger=None, name="공과금")

    rows = {
        t.description: t
        for t in Transaction.objects.filter(ledger__personal_for=user).exclude(
            description__startswith="점심 "
        )
    }
    rent_rows = Transaction.objects.filter(ledger__personal_for=user, recurring=rent).order_by(
        "date"
    )
    assert [t.date for t in rent_rows] == [datetime.date(2025, 6, 25), datetime.date(2025, 7, 25)]
    assert rows["전기요금"].recurring == power and rows["전기요금"].amount is None
    assert rows["전기요금"].date == datetime.date(2025, 8, 31)
    assert rows["브루인 커피 3명"].date == datetime.date(2025, 7, 25)
    assert rows["브루인 커피 3명"].category.ledger.personal_for == user
    assert rows["브루인 커피 3명"].category.emoji == "🛍️"
    assert rows["월급"].amount == Decimal("2031940") and rows["월급"].date == datetime.date(
        2025, 7, 30
    )
    assert rows["월급"].category.is_default
    assert rows["새벽 편의점"].date == datetime.date(2025, 7, 1)  # 00:30 in Seoul
    assert rows["새벽 편의점"].amount == Decimal("3200")
    lunches = Transaction.objects.filter(ledger__personal_for=user, description__startswith="점심 ")
    assert lunches.count() == 500
    assert {t.date.month for t in lunches} == {5}
    assert sum(t.amount for t in lunches) == sum(Decimal(8000 + i) for i in range(500))
    # the three linked rows, and power's 31 July (in effect, no row in the file: closed)
    assert report["created"]["past_dates_closed"] == 1
    assert sorted(
        RecurringOccurrence.objects.filter(recurring__ledger__personal_for=user).values_list(
            "date", flat=True
        )
    ) == [
        datetime.date(2025, 6, 25),
        datetime.date(2025, 7, 25),
        datetime.date(2025, 7, 31),
        datetime.date(2025, 8, 31),
    ]

    # importing the same download again adds nothing
    again = auth_client(user).post(
        "/backup/import", data=saved.read_bytes(), content_type="application/json"
    )
    assert again.json()["created"]["transactions"] == 0


@pytest.mark.browser
def test_extraction_script_reports_a_missing_database(spa_page_url):
    with chromium_page() as page:
        page.goto(spa_page_url.replace("index.html", "dexie.js"))  # same origin, no ledgerDB
        error = page.evaluate(
            "(source) => (0, eval)(source).then(() => null, (e) => e.message)",
            SCRIPT.read_text(),
        )
        names = page.evaluate("indexedDB.databases().then((dbs) => dbs.map((d) => d.name))")

    assert "no IndexedDB database named 'ledgerDB'" in error
    assert "ledgerDB" not in names  # the script did not create an empty one


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_the_app_serves_the_extraction_script():
    response = Client().get("/static/ledger/extract-indexeddb.js")

    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == SCRIPT.read_bytes()
