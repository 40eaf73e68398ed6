"""The original long-poll design, as a peer to compare against: a single-threaded Tornado server
that parks each /get on a tornado.locks.Condition per key and wakes all of them with notify_all()
on /set. The original's defaults (timeout 3600 s, expired 86400 s) and error codes (0 ok, 2 invalid
input and also timeout); like the original, no limits, no /stats, no cleanup of idle keys, and no
removal of a waiter whose client went away: it stands for the design this project measures against.

Run with Debian's python3-tornado: /usr/bin/python3 server/peers/tornado_server.py --port 0
Prints "tornado-peer listening on URL pid=N" when ready.
"""

import argparse
import datetime
import os
import signal
import sys
import time

import tornado.ioloop
import tornado.locks
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

values = {}  # key -> (value, expires_at)
conditions = {}  # key -> tornado.locks.Condition


def number(handler, name, default):
    try:
        return float(handler.get_argument(name, default))
    except ValueError:
        return None


class GetHandler(tornado.web.RequestHandler):
    async def post(self):
        key = self.get_argument("key", None)
        timeout = number(self, "timeout", 3600)
        if not key or timeout is None:
            self.write({"error_code": 2})
            return
        item = values.get(key)
        if item is not None and item[1] > time.time():
            self.write({"error_code": 0, "value": item[0]})
            return
        condition = conditions.setdefault(key, tornado.locks.Condition())
        woken = await condition.wait(timeout=datetime.timedelta(seconds=timeout))
        item = values.get(key)
        if not woken or item is None:
            self.write({"error_code": 2})
            return
        self.write({"error_code": 0, "value": item[0]})


class SetHandler(tornado.web.RequestHandler):
    def post(self):
        key = self.get_argument("key", None)
        value = self.get_argument("value", None)
        expired = number(self, "expired", 86400)
        if not key or not value or expired is None:
            self.write({"error_code": 2})
            return
        values[key] = (value, time.time() + expired)
        condition = conditions.get(key)
        if condition is not None:
            condition.notify_all()
        self.write({"error_code": 0})


class ClearHandler(tornado.web.RequestHandler):
    def post(self):
        valid_begin = number(self, "valid_begin", 0)
        if valid_begin is None:
            self.write({"error_code": 2})
            return
        for key in [k for k, (_, expires) in values.items() if not valid_begin or expires < valid_begin]:
            del values[key]
        self.write({"error_code": 0})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = tornado.web.Application([(r"/get", GetHandler), (r"/set", SetHandler), (r"/clear", ClearHandler)])
    sockets = bind_sockets(args.port, args.host)  # Tornado's default listen backlog, as app.listen() uses
    server = HTTPServer(app)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    print(f"tornado-peer listening on http://{args.host}:{port} pid={os.getpid()}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
