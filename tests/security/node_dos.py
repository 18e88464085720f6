#!/usr/bin/env python3
"""node_dos.py — a real node on 127.0.0.1 under hostile traffic (suite security, TAP).

Garbage instead of TLS, half-open TCP connections, a TLS ClientHello and
then nothing, a ClientHello dribbled a byte at a time, an HTTP request
head dribbled a byte at a time after a good handshake, oversized heads
and bodies (declared and chunked), and 500 hostile connections at once.
Throughout, a client with a valid analyst certificate must keep getting
200 answers; the node must close every hostile connection within a
bounded time and its resident memory (VmRSS) must stay within
RSS_BOUND_MB of what it used before the attack. Every loop is bounded in
count and time; the node is killed at exit whatever happens.

Environment: PHT (the pht binary). Only the Python standard library.
"""
import atexit
import os
import resource
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TIMEOUT = 2          # node limits.timeout (s): the guard's period
MAX_WAIT = 1         # node limits.max_wait (s)
MAX_BODY = 65536
MAX_HEADERS = 8192
# A hostile connection must be gone within two guard periods plus slack
# for a loaded CI host (sanitizer builds run several times slower).
SHED_BOUND = 2 * TIMEOUT + 8
RSS_BOUND_MB = 128   # growth of VmRSS allowed under the 500-connection attack
N_FLOOD = 500

pht = os.environ.get("PHT")
n_test = 0
n_fail = 0
node = None
tmp = None


def ok(cond, name):
    global n_test, n_fail
    n_test += 1
    if not cond:
        n_fail += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_test, name), flush=True)
    return cond


def diag(msg):
    print("# " + msg, flush=True)


def cleanup():
    if node is not None and node.poll() is None:
        node.kill()
        node.wait()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def p(rel):
    return os.path.join(tmp, rel)


def run(*args):
    return subprocess.run(list(args), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=60).returncode == 0


def setup():
    steps = [(pht, "pki", "init", "--out", p("ca")),
             (pht, "pki", "issue", "--ca", p("ca"), "--role", "node",
              "--name", "node", "--out", p("node")),
             (pht, "pki", "issue", "--ca", p("ca"), "--role", "analyst",
              "--name", "ana", "--out", p("ana"))]
    for s in steps:
        if not run(*s):
            return False
    with open(p("node.json"), "w") as f:
        f.write('{"listen":"127.0.0.1","port":0,"cert":"node/cert.pem",'
                '"key":"node/key.pem","ca":"ca/ca.pem","database":"node.db",'
                '"limits":{"max_body":%d,"max_headers":%d,"max_wait":%d,'
                '"timeout":%d}}\n' % (MAX_BODY, MAX_HEADERS, MAX_WAIT, TIMEOUT))
    return True


def start_node():
    global node
    log = open(p("node.log"), "ab")
    node = subprocess.Popen([pht, "node", "serve", "--config", p("node.json"),
                             "--port-file", p("port")], stdout=log, stderr=log)
    log.close()
    for _ in range(400):  # ~20 s
        try:
            with open(p("port")) as f:
                port = int(f.read().strip() or "0")
            if port > 0:
                return port
        except (OSError, ValueError):
            pass
        if node.poll() is not None:
            return 0
        time.sleep(0.05)
    return 0


def rss_kb():
    try:
        with open("/proc/%d/status" % node.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def tls_ctx(with_cert=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(p("ca/ca.pem"))
    if with_cert:
        ctx.load_cert_chain(p("ana/cert.pem"), p("ana/key.pem"))
    return ctx


def good_request(port):
    """One GET /v1/stations with the analyst's certificate: the status, or -1."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as raw:
            with tls_ctx().wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET /v1/stations HTTP/1.1\r\nHost: localhost\r\n"
                          b"Connection: close\r\n\r\n")
                data = b""
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and len(data) < 1 << 20:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        line = data.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) >= 2 and b'"stations"' in data else -1
    except (OSError, ValueError, ssl.SSLError) as e:
        diag("good request failed: %r" % (e,))
        return -1


def closed_by_peer(s):
    """Non-blocking check: True once the node has closed s (EOF or reset).
    Whatever the node sent before closing (a TLS alert, an error reply) is
    read and dropped."""
    try:
        for _ in range(64):  # bounded: at most 4 MB drained per call
            r, _, _ = select.select([s], [], [], 0)
            if not r:
                return False
            try:
                data = s.recv(65536)
            except ssl.SSLWantReadError:
                return False
            if data == b"":
                return True
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


def wait_all_closed(socks, limit):
    """Waits (bounded) until the node closed every socket; returns the number still open."""
    deadline = time.monotonic() + limit
    open_ = list(socks)
    while open_ and time.monotonic() < deadline:
        open_ = [s for s in open_ if not closed_by_peer(s)]
        if open_:
            time.sleep(0.1)
    return len(open_)


def client_hello():
    """The bytes of a TLS 1.3 ClientHello (with the analyst's context)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_ctx().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def raw_conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    return s


def dribble(s, data, interval, limit):
    """Sends data one byte every interval seconds until the node closes the
    connection or limit seconds pass; returns (closed, seconds, bytes sent)."""
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < limit and sent < len(data):
        try:
            s.send(data[sent:sent + 1])
            sent += 1
        except (ConnectionError, ssl.SSLError, OSError):
            return True, time.monotonic() - start, sent
        t_end = time.monotonic() + interval
        while time.monotonic() < t_end:
            if closed_by_peer(s):
                return True, time.monotonic() - start, sent
            time.sleep(0.05)
    return False, time.monotonic() - start, sent


def tls_established(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = tls_ctx().wrap_socket(raw, server_hostname="localhost")
    s.setblocking(False)
    return s


def read_reply(s, limit=10):
    """Reads from a blocking-mode socket until EOF or limit; returns the bytes."""
    s.settimeout(limit)
    data = b""
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline and len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    return data


def status_of(data):
    parts = data.split(b"\r\n", 1)[0].split()
    try:
        return int(parts[1]) if len(parts) >= 2 else 0
    except ValueError:
        return 0


def main():
    global tmp
    if not pht:
        print("1..0 # SKIP PHT not set")
        return 0
    tmp = tempfile.mkdtemp(prefix="pht-sec-node-")
    atexit.register(cleanup)
    if not ok(setup(), "PKI and node config made with pht"):
        return 1
    port = start_node()
    if not ok(port > 0, "node started on 127.0.0.1 port %d" % port):
        return 1
    ok(good_request(port) == 200, "a good client with an analyst certificate gets 200")
    base_rss = rss_kb()
    diag("node VmRSS before the attacks: %d kB" % base_rss)
    peak = base_rss

    # 1. garbage instead of TLS
    s = raw_conn(port)
    try:
        s.send(os.urandom(4096))
    except OSError:
        pass
    ok(wait_all_closed([s], SHED_BOUND) == 0, "garbage instead of a TLS handshake: connection closed")
    s.close()
    ok(good_request(port) == 200, "good client still served after garbage")

    # 2. half-open TCP: connect, send nothing
    socks = [raw_conn(port) for _ in range(20)]
    t0 = time.monotonic()
    left = wait_all_closed(socks, SHED_BOUND)
    ok(left == 0, "20 TCP connections that send nothing: all closed (%d left, %.1f s)"
       % (left, time.monotonic() - t0))
    for s in socks:
        s.close()

    # 3. a ClientHello, then nothing
    hello = client_hello()
    socks = []
    for _ in range(20):
        s = raw_conn(port)
        s.send(hello)
        socks.append(s)
    left = wait_all_closed(socks, SHED_BOUND)
    ok(left == 0, "20 connections stopping after the ClientHello: all closed (%d left)" % left)
    for s in socks:
        s.close()

    # 4. slowloris on the handshake: the ClientHello a byte every 0.5 s (< timeout)
    s = raw_conn(port)
    closed, secs, n = dribble(s, hello, 0.5, SHED_BOUND + 4)
    ok(closed and secs <= SHED_BOUND, "ClientHello dribbled byte by byte: closed after "
       "%.1f s and %d bytes" % (secs, n))
    s.close()

    # 5. slowloris on the request head after a good handshake
    s = tls_established(port)
    head = b"GET /v1/stations HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 4000
    closed, secs, n = dribble(s, head, 0.5, SHED_BOUND + 4)
    ok(closed and secs <= SHED_BOUND, "request head dribbled byte by byte: closed after "
       "%.1f s and %d bytes" % (secs, n))
    s.close()
    ok(good_request(port) == 200, "good client still served after the slow clients")

    # 6. an oversized request head
    s = tls_established(port)
    s.setblocking(True)
    try:
        s.sendall(b"GET /v1/stations HTTP/1.1\r\nHost: localhost\r\nX-Big: " +
                  b"a" * (MAX_HEADERS * 16) + b"\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass
    st = status_of(read_reply(s))
    ok(st in (0, 400, 413, 431), "head of %d bytes (limit %d): refused (status %d, 0 = closed)"
       % (MAX_HEADERS * 16, MAX_HEADERS, st))
    s.close()

    # 7. a body declared larger than max_body: refused before it is read
    s = tls_established(port)
    s.setblocking(True)
    try:
        s.sendall(b"POST /v1/trains HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n" +
                  b"x" * 4096)
    except (OSError, ssl.SSLError):
        pass
    st = status_of(read_reply(s))
    ok(st == 413, "Content-Length 100000000 (limit %d): 413 (got %d)" % (MAX_BODY, st))
    s.close()

    # 8. a chunked body growing past max_body
    s = tls_established(port)
    s.setblocking(True)
    chunk = b"%x\r\n" % 16384 + b"x" * 16384 + b"\r\n"
    try:
        s.sendall(b"POST /v1/trains HTTP/1.1\r\nHost: localhost\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(2 * MAX_BODY // 16384 + 2):
            s.sendall(chunk)
    except (OSError, ssl.SSLError):
        pass
    data = read_reply(s)
    st = status_of(data)
    ok(st in (0, 413), "chunked body past %d bytes: refused (status %d, 0 = closed)"
       % (MAX_BODY, st))
    s.close()
    ok(good_request(port) == 200, "good client still served after oversized input")
    peak = max(peak, rss_kb())

    # 9. many connections at once: idle TCP, bare ClientHellos, garbage
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = N_FLOOD + 64
    if soft < want and hard >= want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    n = min(N_FLOOD, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64)
    diag("flood of %d connections" % n)
    flood = []
    made = 0
    for i in range(n):
        try:
            s = raw_conn(port)
        except OSError as e:
            diag("connection %d: %r" % (i, e))
            break
        made += 1
        try:
            if i % 4 == 1:
                s.send(hello)
            elif i % 4 == 2:
                s.send(os.urandom(512))
        except OSError:
            pass
        flood.append(s)
    ok(made == n, "%d hostile connections opened" % made)
    served = 0
    for _ in range(5):
        served += good_request(port) == 200
        peak = max(peak, rss_kb())
    ok(served == 5, "good client served 5/5 during the flood (%d)" % served)
    t0 = time.monotonic()
    left = wait_all_closed(flood, SHED_BOUND + 5)
    ok(left == 0, "every flood connection closed by the node (%d left after %.1f s)"
       % (left, time.monotonic() - t0))
    for s in flood:
        s.close()
    peak = max(peak, rss_kb())
    diag("node VmRSS peak %d kB, growth %d kB (bound %d MB)"
         % (peak, peak - base_rss, RSS_BOUND_MB))
    ok(base_rss > 0 and peak - base_rss <= RSS_BOUND_MB * 1024,
       "node memory growth under attack within %d MB" % RSS_BOUND_MB)
    ok(good_request(port) == 200, "good client served after the flood")

    with open(p("node.log"), errors="replace") as f:
        log = f.read()
    ok("closing a connection that completed no request" in log,
       "node log records the connections it shed")

    node.send_signal(signal.SIGTERM)
    try:
        rc = node.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, "node stops cleanly on SIGTERM (exit %s; sanitizer builds: no leak)" % rc)
    if rc != 0:
        diag("node log tail:\n# " + "\n# ".join(log.splitlines()[-20:]))
    return 0


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
    print("1..%d" % n_test)
    sys.exit(1 if n_fail else 0)
