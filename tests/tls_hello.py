"""Test helpers for TLS impersonation: a test CA, a ClientHello parser, and an HTTPS server on
127.0.0.1 that records each connection's ClientHello (read with MSG_PEEK, so the bytes stay in
the socket and Python's ssl then completes the same handshake and serves HTTP/1.1)."""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# TLS extension numbers (IANA registry; 17613 is Chrome's application_settings with the new codepoint).
SERVER_NAME, STATUS_REQUEST, SUPPORTED_GROUPS, EC_POINT_FORMATS, SIGNATURE_ALGORITHMS = 0, 5, 10, 11, 13
ALPN, SCT, PADDING, EXTENDED_MASTER_SECRET, COMPRESS_CERTIFICATE = 16, 18, 21, 23, 27
SESSION_TICKET, SUPPORTED_VERSIONS, PSK_KEY_EXCHANGE_MODES, KEY_SHARE = 35, 43, 45, 51
APPLICATION_SETTINGS, ENCRYPTED_CLIENT_HELLO, RENEGOTIATION_INFO = 17613, 65037, 65281


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE values: 0x0a0a, 0x1a1a ... 0xfafa."""
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


def _u16s(data: bytes) -> list[int]:
    return [struct.unpack_from(">H", data, i)[0] for i in range(0, len(data) - 1, 2)]


def _names(data: bytes) -> list[str]:
    """An ALPN-style list: u16 total length, then u8-length-prefixed names."""
    out, p = [], 2
    while p < len(data):
        n = data[p]
        out.append(data[p + 1 : p + 1 + n].decode())
        p += 1 + n
    return out


@dataclass
class ClientHello:
    ciphers: list[int]
    extensions: list[int]  # in wire order
    data: dict[int, bytes] = field(repr=False)

    @property
    def grease_free_ciphers(self) -> list[int]:
        return [c for c in self.ciphers if not is_grease(c)]

    @property
    def extension_set(self) -> set[int]:
        return {e for e in self.extensions if not is_grease(e)}

    @property
    def alpn(self) -> list[str]:
        return _names(self.data[ALPN]) if ALPN in self.data else []

    @property
    def application_settings(self) -> list[str]:
        return _names(self.data[APPLICATION_SETTINGS]) if APPLICATION_SETTINGS in self.data else []

    @property
    def supported_groups(self) -> list[int]:
        return _u16s(self.data[SUPPORTED_GROUPS][2:]) if SUPPORTED_GROUPS in self.data else []

    @property
    def signature_algorithms(self) -> list[int]:
        return _u16s(self.data[SIGNATURE_ALGORITHMS][2:]) if SIGNATURE_ALGORITHMS in self.data else []

    @property
    def supported_versions(self) -> list[int]:
        return _u16s(self.data[SUPPORTED_VERSIONS][1:]) if SUPPORTED_VERSIONS in self.data else []

    @property
    def certificate_compression(self) -> list[int]:
        return _u16s(self.data[COMPRESS_CERTIFICATE][1:]) if COMPRESS_CERTIFICATE in self.data else []

    @property
    def key_share_groups(self) -> list[int]:
        raw, groups, p = self.data.get(KEY_SHARE, b""), [], 2
        while p + 4 <= len(raw):
            group, size = struct.unpack_from(">HH", raw, p)
            groups.append(group)
            p += 4 + size
        return groups

    @property
    def server_name(self) -> str | None:
        raw = self.data.get(SERVER_NAME)
        if not raw:
            return None
        (size,) = struct.unpack_from(">H", raw, 3)
        return raw[5 : 5 + size].decode()

    def grease_everywhere(self) -> dict[str, bool]:
        """Where Chrome puts GREASE: first cipher, first and last extension, groups, versions, key share."""
        return {
            "cipher": is_grease(self.ciphers[0]),
            "first_extension": is_grease(self.extensions[0]),
            "last_extension": is_grease(self.extensions[-1]),
            "groups": is_grease(self.supported_groups[0]),
            "versions": is_grease(self.supported_versions[0]),
            "key_share": is_grease(self.key_share_groups[0]),
        }

    def has_any_grease(self) -> bool:
        values = [*self.ciphers, *self.extensions, *self.supported_groups, *self.supported_versions]
        return any(is_grease(v) for v in values)


def parse_client_hello(record: bytes) -> ClientHello:
    content_type, _version, length = struct.unpack_from(">BHH", record)
    assert content_type == 22, "not a TLS handshake record"
    body = record[5 : 5 + length]
    assert body[0] == 1, "not a ClientHello"
    p = 4 + 2 + 32  # handshake header, legacy_version, random
    p += 1 + body[p]  # session id
    (size,) = struct.unpack_from(">H", body, p)
    ciphers = _u16s(body[p + 2 : p + 2 + size])
    p += 2 + size
    p += 1 + body[p]  # compression methods
    (size,) = struct.unpack_from(">H", body, p)
    p, end = p + 2, p + 2 + size
    extensions, data = [], {}
    while p < end:
        kind, size = struct.unpack_from(">HH", body, p)
        extensions.append(kind)
        data[kind] = body[p + 4 : p + 4 + size]
        p += 4 + size
    return ClientHello(ciphers, extensions, data)


def peek_client_hello(sock: socket.socket) -> bytes:
    """The first TLS record, left unread in the socket (MSG_WAITALL: blocks until it is all there)."""
    header = sock.recv(5, socket.MSG_PEEK | socket.MSG_WAITALL)
    if len(header) < 5:
        raise OSError("connection closed before a ClientHello")
    (length,) = struct.unpack_from(">H", header, 3)
    return sock.recv(5 + length, socket.MSG_PEEK | socket.MSG_WAITALL)


# -- a test CA ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LocalPKI:
    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        ctx.set_alpn_protocols(list(alpn))
        return ctx


def make_pki(folder: Path) -> LocalPKI:
    """A CA and a leaf for localhost / 127.0.0.1 signed by it; only the CA file is trusted by clients."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agentgauge test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = LocalPKI(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    pki.ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    pki.key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pki


# -- the recording HTTPS server ----------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HelloRecordingServer

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def setup(self) -> None:
        self.request.do_handshake()  # here, in the handler thread, not in the accept loop
        super().setup()

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        echo = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        self.server.requests.append(echo)
        path = self.path.split("?", 1)[0]
        if path == "/cookies":
            self._send(200, [("Set-Cookie", "session=abc; Path=/"), ("Set-Cookie", "theme=dark; Path=/")], b"{}")
        elif path == "/redirect":
            self._send(302, [("Location", "/echo?from=redirect")], b"")
        elif path == "/gzip":
            self._send(200, [("Content-Encoding", "gzip")], gzip.compress(json.dumps({"zipped": True}).encode()))
        elif path == "/hang":
            self.server.release.wait(30)  # never answers in time: the client's timeout fires first
            self._send(200, [], b"{}")
        else:
            self._send(200, [], json.dumps(echo).encode())

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HelloRecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        self.hellos: list[ClientHello] = []
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        self._seen = threading.Condition()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        sock.settimeout(20)
        try:
            hello = parse_client_hello(peek_client_hello(sock))
        except (OSError, AssertionError, struct.error):
            sock.close()
            raise OSError("no ClientHello") from None
        with self._seen:
            self.hellos.append(hello)
            self._seen.notify_all()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that rejects our certificate (Chromium, a client without the CA) is expected

    def wait_for_hellos(self, count: int, timeout: float = 60) -> list[ClientHello]:
        with self._seen:
            if not self._seen.wait_for(lambda: len(self.hellos) >= count, timeout):
                raise AssertionError(f"expected {count} ClientHello(s), got {len(self.hellos)}")
            return list(self.hellos)

    def __enter__(self) -> HelloRecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join()
