#!/usr/bin/env python3
"""station_hostile_node.py — the station daemon polling a hostile node (suite security, TAP).

A fake node (mutual TLS 1.3 with a real node certificate from `pht pki`,
so the daemon's TLS checks pass) answers the daemon's inbox polls with, in
turn: garbage instead of HTTP, a truncated JSON reply, a 300 MB reply, a
status line dribbled a byte every 0.5 s, an immediate close, and inbox
entries that are hostile (not objects, no envelope, a garbage envelope, a
huge id). Then it behaves. The daemon (`pht station run`) must survive
every reply, refuse the hostile entries (logged as rejected in its audit
log, which must still verify), come back to poll again each time, keep
its memory bounded, and stop cleanly on SIGTERM. Every wait is bounded;
the daemon is killed at exit whatever happens.

Environment: PHT, PHT_SRC. Only the Python standard library.
"""
import atexit
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

RSS_BOUND_MB = 192     # growth of the daemon's VmRSS allowed (ASan keeps freed buffers)
BIG = 300 << 20        # the oversized reply (the client's cap is 16 MiB)
GARBAGE_ENVELOPE = '{"v":1,"payload":"AAAA","signer":"00","sig":"AAAA"}'

pht = os.environ.get("PHT")
src = os.environ.get("PHT_SRC", ".")
n_test = 0
n_fail = 0
daemon = None
tmp = None
stop_server = threading.Event()


def ok(cond, name):
    global n_test, n_fail
    n_test += 1
    if not cond:
        n_fail += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_test, name), flush=True)
    return cond


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def cleanup():
    stop_server.set()
    if daemon is not None and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def p(rel):
    return os.path.join(tmp, rel)


def run(*args):
    return subprocess.run(list(args), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=60).returncode == 0


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class FakeNode:
    """A TLS server answering the daemon's inbox polls from a script."""

    def __init__(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(p("node-tls/cert.pem"), p("node-tls/key.pem"))
        ctx.load_verify_locations(p("ca/ca.pem"))
        ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.script = ["garbage", "truncated_json", "huge", "slow", "close",
                       "hostile_entries"]
        self.served = []          # inbox behaviours in the order served
        self.good_polls = 0
        self.results = 0          # results the daemon posted
        self.lock = threading.Lock()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not stop_server.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.conn, args=(c,), daemon=True).start()

    def conn(self, raw):
        raw.settimeout(30)
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        try:
            for _ in range(100):  # requests on one keep-alive connection
                if not self.request(s):
                    break
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def read_request(self, s):
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target = lines[0].split()[:2]
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        while len(body) < length and len(body) < 64 << 20:
            chunk = s.recv(65536)
            if not chunk:
                return None
            body += chunk
        return method, target, body

    @staticmethod
    def reply(s, code, obj):
        body = json.dumps(obj).encode()
        s.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (code, len(body)) + body)

    def request(self, s):
        req = self.read_request(s)
        if req is None:
            return False
        method, target, _ = req
        if target.startswith("/v1/inbox?"):
            with self.lock:
                what = self.script.pop(0) if self.script else "ok"
                if what != "ok":
                    self.served.append(what)
            return self.inbox(s, what)
        if method == "POST" and target == "/v1/stations/self":
            self.reply(s, 200, {"station": "a"})
        elif method == "POST" and target.startswith("/v1/trains/") and \
                target.endswith("/results"):
            with self.lock:
                self.results += 1
            self.reply(s, 201, {"stored": True})
        elif method == "POST" and target.startswith("/v1/inbox/"):
            self.reply(s, 200, {"acked": 1})
        else:
            self.reply(s, 404, {"error": "not found"})
        return True

    def inbox(self, s, what):
        if what == "garbage":
            s.sendall(os.urandom(2048))
            return False
        if what == "truncated_json":
            body = b'{"trains": [{"train": "t1", "round": 1, "envelope": "{'
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            return True
        if what == "huge":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % BIG)
            block = b" " * 65536
            sent = 0
            while sent < BIG:  # the client gives up at its cap and closes
                s.sendall(block)
                sent += len(block)
            return False
        if what == "slow":
            line = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            deadline = time.monotonic() + 40
            for b in line:
                if time.monotonic() > deadline:
                    break
                s.sendall(bytes([b]))
                time.sleep(0.5)
            return False
        if what == "close":
            return False
        if what == "hostile_entries":
            entries = [17, "x", {"train": "t2"},
                       {"train": "t3", "round": 1, "analyst": "ana",
                        "envelope": GARBAGE_ENVELOPE},
                       {"train": "t" * 100000, "round": 1, "analyst": "ana",
                        "envelope": "{}"},
                       {"train": "t4", "round": -5, "analyst": "ana",
                        "envelope": "not json"}]
            self.reply(s, 200, {"trains": entries})
            return True
        # ok
        with self.lock:
            self.good_polls += 1
        time.sleep(0.2)
        self.reply(s, 200, {"trains": []})
        return True


def setup():
    steps = [(pht, "pki", "init", "--out", p("ca")),
             (pht, "pki", "issue", "--ca", p("ca"), "--role", "node",
              "--name", "node", "--out", p("node-tls")),
             (pht, "pki", "issue", "--ca", p("ca"), "--role", "station",
              "--name", "a", "--out", p("tls")),
             (pht, "keygen", "--name", "a", "--out", p("keys")),
             (pht, "keygen", "--name", "ana", "--out", p("ana-keys"))]
    for s in steps:
        if not run(*s):
            return False
    return True


def wait_for(cond, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def main():
    global tmp, daemon
    if not pht:
        print("1..0 # SKIP PHT not set")
        return
    tmp = tempfile.mkdtemp(prefix="pht-sec-station-")
    atexit.register(cleanup)
    if not ok(setup(), "PKI and keys made with pht"):
        return
    node = FakeNode()
    data = os.path.join(src, "tests", "data", "station")
    cfg = {"station": "a",
           "datasets": {"registry": {"csv": os.path.join(data, "registry.csv"),
                                     "dict": os.path.join(data, "registry.dict.json")}},
           "signers": [{"name": "ana", "key": "ana-keys/ana.sign.pub", "mode": "auto"}],
           "audit_log": "audit.log", "key": "keys/a.sign.key", "seen_ids": "seen-ids",
           "node": {"url": "https://127.0.0.1:%d" % node.port, "cert": "tls/cert.pem",
                    "key": "tls/key.pem", "ca": "tls/ca.pem"}}
    with open(p("station.json"), "w") as f:
        json.dump(cfg, f)
    log = open(p("daemon.log"), "ab")
    daemon = subprocess.Popen([pht, "station", "run", "--config", p("station.json"),
                               "--wait", "1", "--backoff-max", "1"],
                              stdout=log, stderr=log)
    log.close()
    base = 0
    ok(wait_for(lambda: len(node.served) >= 1, 20), "the daemon polls the fake node")
    time.sleep(0.5)
    base = rss_kb(daemon.pid)
    peak = base
    # the script: at most ~40 s (the slow reply is cut by the client's timeout)
    end = time.monotonic() + 90
    while time.monotonic() < end and (node.script or node.good_polls < 3):
        if daemon.poll() is not None:
            break
        peak = max(peak, rss_kb(daemon.pid))
        time.sleep(0.2)
    alive = daemon.poll() is None
    ok(alive, "the daemon survived every hostile reply (exit %s)" % daemon.poll())
    ok(node.served == ["garbage", "truncated_json", "huge", "slow", "close",
                       "hostile_entries"],
       "it came back after each: %s" % ", ".join(node.served))
    ok(node.good_polls >= 3, "and polls on normally afterwards (%d good polls)"
       % node.good_polls)
    diag("daemon VmRSS %d kB at start, peak %d kB (bound +%d MB)"
         % (base, peak, RSS_BOUND_MB))
    ok(base > 0 and peak - base <= RSS_BOUND_MB * 1024,
       "daemon memory stayed within %d MB of its start (a 300 MB reply was cut "
       "at the client's cap)" % RSS_BOUND_MB)
    with open(p("daemon.log"), errors="replace") as f:
        text = f.read()
    ok("larger than" in text or "too large" in text.lower(),
       "the oversized reply is named in the daemon's log")
    ok("skipped" in text or "rejected" in text,
       "the hostile inbox entries are skipped or rejected, and said so")
    if alive:
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        ok(rc == 0, "the daemon stops cleanly on SIGTERM (exit %s)" % rc)
    else:
        ok(False, "the daemon stops cleanly on SIGTERM (it had died)")
    pub = p("keys/a.sign.pub")
    r = subprocess.run([pht, "audit", "verify", p("audit.log"), "--station-key", pub],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    ok(r.returncode == 0, "the station's audit log verifies afterwards")
    try:
        with open(p("audit.log")) as f:
            events = [json.loads(line)["entry"] for line in f]
    except (OSError, ValueError, KeyError):
        events = []
    want = hashlib.sha256(GARBAGE_ENVELOPE.encode()).hexdigest()
    ok(any(e.get("event") == "rejected" and e.get("envelope_sha256") == want
           for e in events),
       "the entry with a garbage envelope is logged as rejected")
    ok(node.results >= 1, "and answered with a signed refusal (%d result(s) posted)"
       % node.results)
    if n_fail:
        diag("daemon log tail:\n" + "\n".join(text.splitlines()[-25:]))
        diag(r.stdout.decode(errors="replace"))
        diag("audit entries: %s" % json.dumps(events))


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
    print("1..%d" % n_test)
    sys.exit(1 if n_fail else 0)
