"""Loopback HTTP/HTTPS server for the uri/get_url differential tests.

Usage: server.py DIR  (DIR holds ca.crt, server.crt, server.key made by the test)
Writes DIR/ports as "http https https_client_cert" once listening. Without
DIR/server.crt only plain HTTP is served and DIR/ports holds its port alone (the
tests/compat playbooks' fixture). Stops by itself
after a time limit, or when the test kills it. Every response carries fixed
Date/Server headers so that both engines see identical results.
"""
import base64
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXED_DATE = "Thu, 01 Jan 2026 00:00:00 GMT"
BODY_BIN = b"binary content\n" * 4


class Handler(BaseHTTPRequestHandler):
    def version_string(self):
        return "rsible-test-server"

    def date_time_string(self, timestamp=None):
        return FIXED_DATE

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        path = self.path.split("?")[0]
        if path == "/text":
            return self.reply(200, b"hello\n", extra=[("Set-Cookie", "b=2; Path=/"), ("Set-Cookie", "a=1")])
        if path == "/json":
            return self.reply(200, b'{"k": [1, 2], "s": "x"}', "application/json")
        if path == "/problem":
            return self.reply(500, b'{"error": "boom"}', "application/problem+json")
        if path == "/redirect":
            return self.reply(302, b"", extra=[("Location", "/text")])
        if path == "/echo":
            data = self.read_body()
            doc = {
                "method": self.command,
                "body": data.decode("utf-8", "replace"),
                "content_type": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "x_custom": self.headers.get("X-Custom"),
                "cookie": self.headers.get("Cookie"),
            }
            return self.reply(200, json.dumps(doc, sort_keys=True).encode(), "application/json")
        if path == "/auth":
            want = "Basic " + base64.b64encode(b"user:s3cret-pw").decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, b"no", extra=[("WWW-Authenticate", 'Basic realm="t"')])
            return self.reply(200, b"welcome\n")
        if path in ("/files/data.bin", "/attach"):
            if self.headers.get("If-Modified-Since") and path == "/files/data.bin":
                return self.reply(304, b"", ctype=None)
            extra = [("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")]
            if path == "/attach":
                extra.append(("Content-Disposition", 'attachment; filename="named.txt"'))
            return self.reply(200, BODY_BIN, "application/octet-stream", extra)
        if path == "/files/SHA256SUMS":
            import hashlib
            digest = hashlib.sha256(BODY_BIN).hexdigest()
            return self.reply(200, ("%s  data.bin\n%s  other.bin\n" % (digest, "0" * 64)).encode())
        return self.send_error(404)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = route


def serve(server):
    server.serve_forever()


def main():
    d = sys.argv[1]
    servers = []
    plain = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    servers.append(plain)
    with_tls = os.path.exists(os.path.join(d, "server.crt"))
    for require_client in (False, True) if with_tls else ():
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(os.path.join(d, "ca.crt"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        servers.append(srv)
    for s in servers:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    tmp = os.path.join(d, "ports.tmp")
    with open(tmp, "w") as f:
        f.write(" ".join(str(s.server_address[1]) for s in servers))
    os.rename(tmp, os.path.join(d, "ports"))
    # A bounded life: the test kills it, this is the backstop.
    threading.Event().wait(600)


main()
