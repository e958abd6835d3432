"""`bench.sync_snapshot.walk` follows `/sync` pages to the end and notices a row served twice
(against a stand-in server: the bench itself runs against gunicorn)."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from bench import sync_snapshot

# revision → (the page's transaction ids, the revision it ends at, has_more)
PAGES = {0: (["a", "b"], 2, True), 2: (["c"], 3, True), 3: ([], 3, False)}


def _serve(pages):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            since = int(parse_qs(urlparse(self.path).query)["since"][0])
            ids, revision, has_more = pages[since]
            body = json.dumps(
                {
                    "revision": revision,
                    "has_more": has_more,
                    "transactions": [{"id": i} for i in ids],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def serve():
    servers = []

    def start(pages):
        servers.append(_serve(pages))
        return f"http://127.0.0.1:{servers[-1].server_port}"

    yield start
    for server in servers:
        server.shutdown()


def test_a_walk_follows_has_more_and_counts_every_transaction(serve):
    base = serve(PAGES)
    result = sync_snapshot.walk(base=base, token="t", master_pid=os.getpid(), limit=2, expected=3)
    assert (result["pages"], result["transactions"], result["complete"]) == (3, 3, True)
    assert sync_snapshot.within_bound(result)


def test_a_walk_that_misses_rows_is_not_within_bound(serve):
    result = sync_snapshot.walk(
        base=serve(PAGES), token="t", master_pid=os.getpid(), limit=2, expected=4
    )
    assert result["complete"] is False
    assert not sync_snapshot.within_bound(result)


def test_a_transaction_served_twice_stops_the_walk(serve):
    pages = {**PAGES, 2: (["b"], 3, True)}
    with pytest.raises(SystemExit, match="came twice"):
        sync_snapshot.walk(
            base=serve(pages), token="t", master_pid=os.getpid(), limit=2, expected=3
        )
