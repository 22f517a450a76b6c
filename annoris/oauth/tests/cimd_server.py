"""A local HTTPS server for client metadata documents (tests): a self-signed certificate for
``localhost`` that the test trusts through ``SSL_CERT_FILE``, and a few documents."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HUGE_BYTES = 50 * 1024 * 1024


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cimd-cert.pem", folder / "cimd-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class DocumentServer:
    """``/client.json``: a valid document for ``redirect``; ``/huge.json``: 50 MB of JSON."""

    def __init__(self, folder: Path, redirect: str) -> None:
        self.cert, key = self_signed(folder)
        self.hits: Counter[str] = Counter()
        self.redirect = redirect
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits[self.path] += 1
                if self.path == "/huge.json":
                    self._huge()
                elif self.path.startswith("/client"):
                    body = json.dumps(server.document(self.path)).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_error(404)

            def _huge(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(HUGE_BYTES))
                self.end_headers()
                chunk = b" " * 65536
                try:
                    for _ in range(HUGE_BYTES // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the fetcher hung up after its size limit: expected

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.base_url = f"https://localhost:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def document(self, path: str) -> dict[str, object]:
        redirect = "http://evil.example/callback" if path == "/client-http.json" else self.redirect
        claimed = "/client.json" if path == "/client-other.json" else path  # claims another URL
        return {
            "client_id": self.base_url + claimed,
            "client_name": "Metadata Client",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        }

    def __enter__(self) -> DocumentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
