"""More real servers for the TLS tests: an HTTP CONNECT proxy that records its tunnels, and nginx
serving HTTP/2 over TLS (Debian's nginx-light, which .ci/run installs)."""

from __future__ import annotations

import select
import shutil
import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.tls_hello import LocalPKI


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- an HTTP CONNECT proxy ---------------------------------------------------------------------
class _ProxyHandler(socketserver.BaseRequestHandler):
    server: ConnectProxy

    def handle(self) -> None:
        client: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        self.server.tunnels.append(target)
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        with socket.create_connection((host, int(port))) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _relay(client, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select([a, b], [], [])
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            peers[sock].sendall(data)


class ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.tunnels: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


# -- nginx with HTTP/2 -------------------------------------------------------------------------
NGINX = shutil.which("nginx")
_NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {pki.cert_path};
    ssl_certificate_key {pki.key_path};
    gzip on; gzip_types application/json; gzip_min_length 1;
    location /echo {{
      default_type application/json;
      add_header Set-Cookie "a=1; Path=/";
      add_header Set-Cookie "b=2; Path=/";
      return 200 '{{"cookie": "$http_cookie", "protocol": "$server_protocol", "ua": "$http_user_agent"}}';
    }}
  }}
}}
"""


@contextmanager
def nginx_h2(pki: LocalPKI, folder: Path) -> Iterator[str]:
    """nginx (installed by .ci/run) serving HTTP/2 over TLS with the test CA's certificate."""
    assert NGINX, "nginx is required (.ci/run installs nginx-light)"
    port = closed_port()
    (folder / "nginx.conf").write_text(_NGINX_CONF.format(root=folder, port=port, pki=pki))
    proc = subprocess.Popen(
        [NGINX, "-e", "stderr", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        # nginx logs this notice once its sockets listen; EOF first means it failed to start.
        for line in proc.stderr:
            if "start worker process" in line:
                break
        else:
            raise AssertionError("nginx did not start")
        yield f"https://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
