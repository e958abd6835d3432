"""Fixtures of the accounts tests: a real JWKS server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class JwksServer:
    """A local HTTP server that serves a JWKS and counts the requests it gets."""

    def __init__(self):
        self.keys = []
        self.status = 200
        self.requests = []  # (path, Authorization header) of each request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server.requests.append((self.path, self.headers.get("Authorization")))
                body = json.dumps({"keys": [k.jwk() for k in server.keys]}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = f"{self.base_url}/.well-known/jwks.json"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.running = True

    @property
    def count(self):
        return len(self.requests)

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def jwks_server(settings):
    """A running JWKS server that the API is configured to use (`CLERK_JWKS_URL`)."""
    server = JwksServer()
    settings.CLERK_JWT_KEY = ""
    settings.CLERK_JWKS_URL = server.url
    yield server
    server.stop()
