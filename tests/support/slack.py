"""A stand-in for Slack: a loopback HTTP server that collects what is posted to it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """Collects the JSON bodies POSTed to it: a stand-in for Slack's incoming webhook (answers
    ``ok``) and for Slack's Web API ``chat.postMessage`` (answers ``{"ok": true}``). ``status``
    makes it refuse every request with that HTTP status."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.paths.append(self.path)
                receiver.headers.append(dict(self.headers.items()))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                if status != 200:
                    answer = b"invalid_payload"
                elif self.path.endswith("chat.postMessage"):
                    answer = b'{"ok": true, "channel": "C000", "ts": "1.0"}'
                else:
                    answer = b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/services/T000/B000/not-a-real-secret"

    @property
    def api_url(self) -> str:
        """Base URL of the stand-in Slack Web API (``.../api/chat.postMessage``)."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def texts(self) -> list[str]:
        return [body.get("text", "") for body in self.bodies]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
