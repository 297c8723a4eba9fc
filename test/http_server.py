#!/usr/bin/env python3
"""A loopback HTTP(S) server for the TAP tests of http tasks.

    http_server.py --log FILE [--cert CERT --key KEY] [--bind 127.0.0.1]

Prints its port on the first line of standard output once it listens, then serves until killed:
  /ok                     200 "hello"
  /status/NNN             status NNN with a short body
  /slow?ms=N              200 after N milliseconds
  /redirect?to=URL&code=C a redirect (302 unless C) to URL
  /huge?bytes=N           200 with N bytes, streamed
  /hops/N                 a redirect to /hops/N-1; /hops/0 answers 200 "arrived"
  anything else           200 with what was received, as JSON
Every request is appended to FILE as one JSON line: method, path, headers, body, and when it came (at, epoch).
"""
import argparse
import json
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_lock = threading.Lock()

    def log_message(self, *args):
        pass

    def record(self, body):
        entry = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                 "body": body.decode("utf-8", "replace"), "at": time.time()}
        with self.log_lock, open(self.server.log_file, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.record(body)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/ok":
            self.reply(200, b"hello")
        elif url.path.startswith("/status/"):
            code = int(url.path.split("/")[2])
            self.reply(code, ("status %d" % code).encode())
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", "1000")) / 1000.0)
            self.reply(200, b"slow")
        elif url.path == "/redirect":
            self.reply(int(query.get("code", "302")), b"moved", [("Location", query["to"])])
        elif url.path.startswith("/hops/"):
            hops = int(url.path.split("/")[2])
            if hops > 0:
                self.reply(302, b"onwards", [("Location", "/hops/%d" % (hops - 1))])
            else:
                self.reply(200, b"arrived")
        elif url.path == "/huge":
            left = int(query.get("bytes", "1000000"))
            self.send_response(200)
            self.send_header("Content-Length", str(left))
            self.end_headers()
            block = b"x" * 65536
            try:
                while left > 0:
                    n = min(left, len(block))
                    self.wfile.write(block[:n])
                    left -= n
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.reply(200, json.dumps({"method": self.command, "body": body.decode("utf-8", "replace")}).encode(),
                       [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    ThreadingHTTPServer.request_queue_size = 1024  # a burst of connections must not overflow the listen backlog
    server = ThreadingHTTPServer((args.bind, 0), Handler)
    server.daemon_threads = True
    server.log_file = args.log
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
