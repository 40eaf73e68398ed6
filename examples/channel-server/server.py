#!/usr/bin/env python3
"""A small long-poll server that does NOT speak longpoll-bench's protocol: an example of "your own
server" for the harness (see docs/own-server.md). Python standard library only.

    GET  /poll?channel=NAME&timeout=SECONDS   waits for the next message on the channel;
         with If-None-Match: N (the ETag of the last message seen), answers the first message after
         N at once if one is kept, else waits. 200 with the message as the body and ETag: N;
         204 No Content when the timeout passes.
    POST /publish/NAME                        the raw request body is the message; 202.
    GET  /status                              {"waiting": <parked polls>}
    GET  /healthz                             200

Each channel keeps its last 256 messages. One thread per connection (ThreadingHTTPServer), a
Condition per channel. Usage: python3 server.py --port 8080 [--host 127.0.0.1]
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

KEEP = 256
lock = threading.Lock()
channels = {}  # name -> {"cond": Condition, "seq": int, "messages": [(seq, bytes)]}
waiting = 0


def channel(name):
    ch = channels.get(name)
    if ch is None:
        ch = {"cond": threading.Condition(lock), "seq": 0, "messages": []}
        channels[name] = ch
    return ch


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and status != 204:
            self.wfile.write(body)

    def do_GET(self):
        global waiting
        url = urlsplit(self.path)
        if url.path == "/healthz":
            return self.answer(200, b"ok")
        if url.path == "/status":
            return self.answer(200, json.dumps({"waiting": waiting}).encode(), {"Content-Type": "application/json"})
        if url.path != "/poll":
            return self.answer(404, b"not found")
        q = parse_qs(url.query)
        name = (q.get("channel") or [""])[0]
        if not name:
            return self.answer(400, b"channel is required")
        timeout = float((q.get("timeout") or ["30"])[0])
        after = self.headers.get("If-None-Match")
        with lock:
            ch = channel(name)
            since = int(after.strip('"')) if after else ch["seq"]
            found = None
            waiting += 1
            try:
                found = self.first_after(ch, since)
                if found is None:
                    ch["cond"].wait_for(lambda: self.first_after(ch, since) is not None, timeout)
                    found = self.first_after(ch, since)
            finally:
                waiting -= 1
        if found is None:
            return self.answer(204)
        seq, body = found
        self.answer(200, body, {"ETag": str(seq), "Content-Type": "text/plain"})

    @staticmethod
    def first_after(ch, since):
        for seq, body in ch["messages"]:
            if seq > since:
                return seq, body
        return None

    def do_POST(self):
        url = urlsplit(self.path)
        if not url.path.startswith("/publish/"):
            return self.answer(404, b"not found")
        name = unquote(url.path[len("/publish/"):])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with lock:
            ch = channel(name)
            ch["seq"] += 1
            ch["messages"].append((ch["seq"], body))
            del ch["messages"][:-KEEP]
            ch["cond"].notify_all()
        self.answer(202, b"queued")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the listen backlog (the default, 5, drops connects that arrive together)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = Server((args.host, args.port), Handler)
    print(f"channel-server listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
