"""A stand-in for Antigravity's language server, run as a real process by tests/test_provider_antigravity.py.

Started through a link named ``language_server_linux_x64`` with the real flags (``--csrf_token``,
``--extension_server_port``, ``--app_data_dir``, ``--random_port``, ``--enable_lsp``, optionally
``--server_port``), it listens like the real server: the Connect API over HTTPS with a self-signed
certificate on 127.0.0.1, a plain-HTTP port, and a port that hangs up at once (the LSP port does
not speak HTTP either). Standard library only: the link runs the base interpreter, not the venv.

Environment: ``FAKE_LS_CERT``/``FAKE_LS_KEY`` (PEM files), ``FAKE_LS_FIXTURES`` (the recorded
answers), ``FAKE_LS_MODE`` (``app``: answers the quota summary; ``ide``: 404 for it, like the IDE's
server), ``FAKE_LS_LOG`` (one JSON line per request: path and headers). Prints ``ready https=<port>
http=<port> closer=<port>`` once listening.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SERVICE = "/exa.language_server_pb.LanguageServerService/"
ANSWERS = {
    "RetrieveUserQuotaSummary": "retrieve-user-quota-summary.json",
    "GetUserStatus": "get-user-status.json",
    "GetCommandModelConfigs": "get-command-model-configs.json",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csrf_token", required=True)
    parser.add_argument("--extension_server_port", type=int)
    parser.add_argument("--server_port", type=int, default=0)
    parser.add_argument("--app_data_dir")
    flags, _ = parser.parse_known_args()
    fixtures = Path(os.environ["FAKE_LS_FIXTURES"])
    mode = os.environ.get("FAKE_LS_MODE", "app")
    log = Path(os.environ["FAKE_LS_LOG"])
    lock = threading.Lock()

    class Connect(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock, log.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body.decode()}) + "\n")
            method = self.path.removeprefix(SERVICE)
            if (
                not self.path.startswith(SERVICE)
                or method not in ANSWERS
                or (mode == "ide" and method == "RetrieveUserQuotaSummary")
            ):
                self.send_response(404)
                self.send_header("Content-Length", "18")
                self.end_headers()
                self.wfile.write(b"404 page not found")
                return
            if self.headers.get("Content-Type") != "application/json":
                self.answer(415, {"code": "unknown", "message": "unsupported content type"})
                return
            if self.headers.get("X-Codeium-Csrf-Token") != flags.csrf_token:
                self.answer(401, {"code": "unauthenticated", "message": "invalid CSRF token"})
                return
            self.answer(200, json.loads((fixtures / ANSWERS[method]).read_text(encoding="utf-8")))

    class Plain(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(os.environ["FAKE_LS_CERT"], os.environ["FAKE_LS_KEY"])
    https = ThreadingHTTPServer(("127.0.0.1", flags.server_port), Connect)
    https.socket = tls.wrap_socket(https.socket, server_side=True)
    http = ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    closer = socket.socket()
    closer.bind(("127.0.0.1", 0))
    closer.listen()

    def hang_up() -> None:
        while True:
            connection, _ = closer.accept()
            connection.close()

    for target in (https.serve_forever, http.serve_forever, hang_up):
        threading.Thread(target=target, daemon=True).start()
    ports = (https.server_address[1], http.server_address[1], closer.getsockname()[1])
    print("ready https={} http={} closer={}".format(*ports), flush=True)
    sys.stdin.read()  # runs until the test closes stdin (or ends the process)


if __name__ == "__main__":
    main()
