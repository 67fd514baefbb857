#!/usr/bin/env python3
"""A fake primary for portshare-sub's scenario (test_sub.sh): it speaks the
registration protocol (seed 003, Tables 2 and 3) on one registration port,
sends copies, and checks what the subscriber sends back.

  sub_primary.py raw ADDR REGPORT CONTESTED RETRY OUTDIR
      leaves the first ADD unanswered, answers the retry with 100 OK, sends
      raw copies, then SHUTDOWN; stays silent for a while, answers an ADD
      again, sends more copies, then waits for the DROP of SIGTERM.
  sub_primary.py framed ADDR REGPORT CONTESTED RETRY OUTDIR
      answers two ADDs with 310, the third with 100 OK, sends framed copies
      (two of them broken, one past --count) and waits for the DROP that
      --count brings.
  sub_primary.py forward ADDR REGPORT CONTESTED RETRY OUTDIR FWDPORT
      answers 200 Already Added, sends raw copies and checks they reach
      FWDPORT on ADDR, then waits for the DROP.
  sub_primary.py keepalive ADDR REGPORT CONTESTED RETRY OUTDIR REFRESH
      answers the first ADD with 100 OK, checks the ADD comes again every
      REFRESH seconds and answers two with 200 Already Added, the third
      with 100 OK (a primary that had forgotten the subscriber), sending a
      copy after each; then falls silent, without SHUTDOWN, creating
      OUTDIR/silent, until OUTDIR/noticed appears; answers the next ADD,
      sends a last copy and waits for the DROP of SIGTERM.

What the subscriber should write is left in OUTDIR/expected, and OUTDIR/sent
is created once every copy is out.  Verdicts are printed as "PASS what" or
"FAIL what", and "DONE" at the end.  Every receive has a timeout.
"""
import os
import socket
import struct
import sys
import time

TIMEOUT = 10.0


def verdict(ok, what):
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    return ok


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class Primary:
    def __init__(self, addr, regport, contested, retry, outdir):
        self.addr = addr
        self.contested = contested
        self.retry = retry
        self.outdir = outdir
        self.sock = socket.socket(family_of(addr), socket.SOCK_DGRAM)
        self.sock.bind((addr, regport))
        self.expected = b""

    def recv(self, timeout=TIMEOUT):
        """The next datagram as (text, source), or (None, None) on timeout."""
        self.sock.settimeout(timeout)
        try:
            data, src = self.sock.recvfrom(65536)
        except socket.timeout:
            return None, None
        return data.decode("ascii", "replace"), src

    def expect(self, verb, what, timeout=TIMEOUT):
        """Waits for a request with this verb; checks its fields."""
        text, src = self.recv(timeout)
        if text is None:
            verdict(False, what + " (nothing came)")
            return None
        want = "%s %s %d" % (verb, src[0], self.contested)
        verdict(text == want, what if text == want else
                "%s (got %r, want %r)" % (what, text, want))
        return src

    def send(self, data, dst):
        self.sock.sendto(data, dst)

    def copy(self, payload, dst, expected=None):
        self.send(payload, dst)
        self.expected += payload if expected is None else expected

    def finish(self):
        with open(os.path.join(self.outdir, "expected"), "wb") as f:
            f.write(self.expected)
        open(os.path.join(self.outdir, "sent"), "w").close()

    def expect_drop(self, what):
        src = self.expect("DROP", what)
        if src is not None:
            self.send(b"100 OK", src)


def raw(p):
    src = p.expect("ADD", "ADD names the subscriber's address and the contested port")
    if src is None:
        return
    t0 = time.monotonic()
    again = p.expect("ADD", "an unanswered ADD is sent again")
    if again is None:
        return
    gap = time.monotonic() - t0
    verdict(0.7 * p.retry <= gap <= 3 * p.retry, "after about --retry seconds (%.2f s)" % gap)
    verdict(again == src, "from the same socket")
    p.send(("100 OK %s %d" % (p.addr, p.contested)).encode(), src)
    # Binary payloads, one that reads like a notice from another primary,
    # and a large one, all of which must reach stdout byte for byte.
    for payload in (b"\x00\x01\x02\xff\n\r\n", b"SHUTDOWN 192.0.2.99 1",
                    bytes(range(256)) * 20, b"trap #4"):
        p.copy(payload, src)
    time.sleep(0.2)
    p.send(("SHUTDOWN %s %d" % (p.addr, p.contested)).encode(), src)
    t0 = time.monotonic()
    silent = 5 * p.retry
    times = []
    while time.monotonic() - t0 < silent:
        text, s = p.recv(max(0.01, silent - (time.monotonic() - t0)))
        if text is not None:
            times.append(time.monotonic() - t0)
    verdict(len(times) >= 3, "after SHUTDOWN, ADD every --retry (%d in %.1f s)"
            % (len(times), silent))
    verdict(bool(times) and times[0] >= 0.7 * p.retry,
            "but only after waiting --retry first (%s)"
            % ("%.2f s" % times[0] if times else "none"))
    src = p.expect("ADD", "and it keeps asking while the primary is away")
    if src is None:
        return
    p.send(("100 OK %s %d" % (p.addr, p.contested)).encode(), src)
    for payload in (b"after the restart", b"\xfe" * 1000):
        p.copy(payload, src)
    p.finish()
    p.expect_drop("SIGTERM sends DROP")


def frame(origin, oport, payload, magic=b"PS"):
    fam = 6 if ":" in origin else 4
    addr = socket.inet_pton(socket.AF_INET6 if fam == 6 else socket.AF_INET, origin)
    return (magic + bytes([1, fam]) + addr.ljust(16, b"\0")
            + struct.pack("!HHI", oport, 162, len(payload)) + payload)


def framed(p):
    src = None
    for n in (1, 2):
        src = p.expect("ADD", "ADD %d over IPv6" % n)
        if src is None:
            return
        p.send(b"310 ERROR. Not Permitted", src)
    src = p.expect("ADD", "ADD is retried after an error reply")
    if src is None:
        return
    p.send(("100 OK %s %d" % (p.addr, p.contested)).encode(), src)
    p.copy(frame("203.0.113.7", 5353, b"hello"), src, b"203.0.113.7 5353 5 68656c6c6f\n")
    p.send(frame("203.0.113.7", 5353, b"bad", magic=b"XX"), src)
    p.send(frame("203.0.113.7", 5353, b"short")[:-1], src)
    p.copy(frame("2001:db8::5", 40000, b"\x00\xff"), src, b"2001:db8::5 40000 2 00ff\n")
    p.copy(frame("198.51.100.1", 1, b""), src, b"198.51.100.1 1 0\n")
    # One more than --count 3: queued with the others, it must not be written.
    p.send(frame("198.51.100.1", 2, b"extra"), src)
    p.finish()
    p.expect_drop("--count ends with a DROP")


def forward(p, fwdport):
    sink = socket.socket(family_of(p.addr), socket.SOCK_DGRAM)
    sink.bind((p.addr, fwdport))
    sink.settimeout(TIMEOUT)
    src = p.expect("ADD", "ADD to an explicit registration port")
    if src is None:
        return
    p.send(b"200 ERROR. Already Added", src)
    payloads = [b"one\x00", b"two" * 100]
    for payload in payloads:
        p.send(payload, src)
    got = []
    try:
        while len(got) < len(payloads):
            got.append(sink.recv(65536))
    except socket.timeout:
        pass
    verdict(got == payloads, "--forward passes the payloads on (%d of %d)"
            % (len(got), len(payloads)))
    p.finish()
    p.expect_drop("--count ends with a DROP")


def keepalive(p, refresh):
    ok = ("100 OK %s %d" % (p.addr, p.contested)).encode()
    src = p.expect("ADD", "ADD before the keepalive")
    if src is None:
        return
    p.send(ok, src)
    answered = time.monotonic()
    p.copy(b"registered", src)
    for n, reply in ((1, b"200 ERROR. Already Added"), (2, b"200 ERROR. Already Added"),
                     (3, ok)):
        again = p.expect("ADD", "keepalive ADD %d" % n, refresh + TIMEOUT)
        if again is None:
            return
        gap = time.monotonic() - answered
        verdict(0.8 * refresh <= gap <= 1.5 * refresh,
                "keepalive ADD %d after --refresh seconds (%.2f s)" % (n, gap))
        verdict(again == src, "keepalive ADD %d from the same socket" % n)
        p.send(reply, src)
        answered = time.monotonic()
        p.copy(b"copy after keepalive %d" % n, src)
    # Silent now, as a primary that died without SHUTDOWN; the test script
    # says when the subscriber has noticed.
    open(os.path.join(p.outdir, "silent"), "w").close()
    noticed = os.path.join(p.outdir, "noticed")
    adds = 0
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(noticed) and time.monotonic() < deadline:
        text, _ = p.recv(0.05)
        adds += text is not None
    if not verdict(os.path.exists(noticed), "the subscriber noticed the silence"):
        return
    verdict(adds >= 3, "ADD was resent while unanswered (%d)" % adds)
    src = p.expect("ADD", "ADD goes on after the silence")
    if src is None:
        return
    p.send(ok, src)
    p.copy(b"after the silence", src)
    p.finish()
    p.expect_drop("SIGTERM sends DROP")


def main():
    mode, addr, regport, contested, retry, outdir = sys.argv[1:7]
    p = Primary(addr, int(regport), int(contested), float(retry), outdir)
    if mode == "raw":
        raw(p)
    elif mode == "framed":
        framed(p)
    elif mode == "forward":
        forward(p, int(sys.argv[7]))
    elif mode == "keepalive":
        keepalive(p, float(sys.argv[7]))
    else:
        sys.exit("unknown mode " + mode)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
