#!/usr/bin/env python3
"""Peers for tests/net/test_fanout.sh: senders, listeners and subscribers.

  fanout_peer.py send HOST PORT N [SPORT]   N datagrams of varied size and
                                            content (from SPORT if given), paced
  fanout_peer.py listen ADDR PORT FILE      every datagram as "SRC SPORT HEX"
  fanout_peer.py tcp ADDR PORT FILE         accept framed copies over TCP, each
                                            as "ORIGIN OPORT CPORT LEN HEX"
  fanout_peer.py unix PATH FILE             the same from a Unix datagram socket
  fanout_peer.py ask HOST PORT TEXT...      send each TEXT to a registration
                                            port from one socket and print each
                                            answer (or "(none)") on its own line
  fanout_peer.py burst SRC HOST PORT N     N requests from SRC at once; prints
                                            how many were answered within 1 s

Listeners flush every line, so the shell can count them while they run.
Every socket has a timeout and every loop a bound.
"""
import os
import socket
import struct
import sys
import time

MAGIC = b"PS"


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def payload(i):
    """Datagram i: sizes from 1 to about 1400 bytes, content unique to i."""
    size = 1 + (i * 97) % 1400
    head = ("%06d:" % i).encode()
    return (head + bytes((i + k) % 251 for k in range(size)))[:max(size, len(head))]


def send(host, port, n, sport=0):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if ":" in host else "0.0.0.0", sport))
    for i in range(n):
        s.sendto(payload(i), (host, port))
        # Paced: the test is about every copy, not about overload.
        time.sleep(0.002)


def listen(addr, port, path):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    with open(path, "a") as out:
        while True:
            data, src = s.recvfrom(65536)
            out.write("%s %d %s\n" % (src[0], src[1], data.hex()))
            out.flush()


def frame_line(hdr, data):
    fam = hdr[3]
    origin = socket.inet_ntop(socket.AF_INET if fam == 4 else socket.AF_INET6,
                              hdr[4:8] if fam == 4 else hdr[4:20])
    oport, cport, length = struct.unpack("!HHI", hdr[20:28])
    return "%s %d %d %d %s\n" % (origin, oport, cport, length, data.hex())


def tcp(addr, port, path):
    ls = socket.socket(family_of(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4)
    with open(path, "a") as out:
        while True:
            conn, _ = ls.accept()
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 28:
                    if buf[:2] != MAGIC or buf[2] != 1:
                        out.write("BAD HEADER\n")
                        out.flush()
                        return
                    length = struct.unpack("!I", buf[24:28])[0]
                    if len(buf) < 28 + length:
                        break
                    out.write(frame_line(buf[:28], buf[28:28 + length]))
                    out.flush()
                    buf = buf[28 + length:]
            conn.close()


def unix(path, outpath):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(outpath, "a") as out:
        while True:
            data = s.recv(65536)
            if data.startswith(b"SHUTDOWN "):
                out.write(data.decode() + "\n")
            elif data[:2] != MAGIC or len(data) < 28:
                out.write("BAD HEADER\n")
            else:
                out.write(frame_line(data[:28], data[28:]))
            out.flush()


def ask(host, port, texts):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for t in texts:
        s.sendto(t.encode(), (host, port))
        try:
            data, _ = s.recvfrom(4096)
            print(data.decode(errors="replace"), flush=True)
        except socket.timeout:
            print("(none)", flush=True)


def burst(src, host, port, n):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.bind((src, 0))
    for _ in range(n):
        s.sendto(("DROP %s %d" % (src, port - 13000)).encode(), (host, port))
    answered = 0
    s.settimeout(0.2)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            s.recvfrom(4096)
            answered += 1
        except socket.timeout:
            pass
    print(answered)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "send":
        send(args[0], int(args[1]), int(args[2]), int(args[3]) if len(args) > 3 else 0)
    elif cmd == "listen":
        listen(args[0], int(args[1]), args[2])
    elif cmd == "tcp":
        tcp(args[0], int(args[1]), args[2])
    elif cmd == "unix":
        unix(args[0], args[1])
    elif cmd == "ask":
        ask(args[0], int(args[1]), args[2:])
    elif cmd == "burst":
        burst(args[0], args[1], int(args[2]), int(args[3]))


if __name__ == "__main__":
    main()
