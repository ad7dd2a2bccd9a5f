#!/usr/bin/env python3
"""A stand-in for AEM's package manager, so that `je put` (which builds a package
only to upload it) can run offline: every request is answered with success, and
uploaded bodies are counted and dropped. Usage: aem_stub.py PORT"""
import http.server
import sys

OK_JSON = b'{"success":true,"msg":"Package uploaded","path":"/etc/packages/je/je.zip"}'
OK_XML = b'<?xml version="1.0" encoding="utf-8"?><crx version="1.4" user="admin" workspace="crx.default"><request><param name="cmd" value="x"/></request><response><data></data><status code="200">ok</status></response></crx>'


class Handler(http.server.BaseHTTPRequestHandler):
    def _reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 20)) or b"x")
        body = OK_XML if "service.jsp" in self.path else OK_JSON
        ctype = "text/xml" if body is OK_XML else "application/json"
        sys.stderr.write(f"{self.command} {self.path}\n")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _reply

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
