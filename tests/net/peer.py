#!/usr/bin/env python3
"""Test peers for the network scenarios: real TCP/UDP servers and clients.

  peer.py serve tcp|udp PORT NAME [ADDR...]
                                    serve PORT on ADDRs (default: every address,
                                    v4 and v6): TCP sends "NAME\\n" then echoes;
                                    UDP answers "NAME:" + datagram.  A UDP server
                                    that shares a host with others binds its own
                                    address, so its replies leave from it.
  peer.py get tcp|udp HOST PORT     connect, print the server's name, check a
                                    256 KiB echo (TCP) or a datagram echo (UDP).
  peer.py flood HOST PORT SECONDS   send small UDP datagrams as fast as it can,
                                    for at most SECONDS.
  peer.py hold HOST PORT FIFO       keep one TCP connection open; each line read
                                    from FIFO is sent, the echo is checked and
                                    "ok N" printed; exits non-zero on mismatch.
                                    The server's name comes first: "server NAME".
Every socket operation has a timeout, so a broken path fails instead of hanging.
"""
import os
import socket
import sys
import threading
import time

TIMEOUT = 5.0


def listen(kind, port, addr="::"):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if addr == "::":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    return s


def udp_echo(s, name):
    while True:
        data, addr = s.recvfrom(65536)
        s.sendto(name.encode() + b":" + data, addr)


def tcp_session(conn, name):
    try:
        conn.settimeout(30)
        conn.sendall(name.encode() + b"\n")
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def serve(proto, port, name, addrs):
    if proto == "tcp":
        s = listen(socket.SOCK_STREAM, port)
        s.listen(64)
        while True:
            conn, _ = s.accept()
            threading.Thread(target=tcp_session, args=(conn, name), daemon=True).start()
    socks = [listen(socket.SOCK_DGRAM, port, a) for a in (addrs or ["::"])]
    for s in socks[1:]:
        threading.Thread(target=udp_echo, args=(s, name), daemon=True).start()
    udp_echo(socks[0], name)


def connect(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            raise OSError("connection closed before the greeting")
        buf += chunk
    return buf[:-1].decode()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def get(proto, host, port):
    if proto == "tcp":
        s = connect(host, port)
        name = read_line(s)
        payload = os.urandom(256 * 1024)
        sender = threading.Thread(target=s.sendall, args=(payload,))
        sender.start()
        echo = recv_exact(s, len(payload))
        sender.join()
        s.close()
        if echo != payload:
            raise OSError("echo differs")
        print(name)
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    payload = os.urandom(512)
    for _ in range(5):
        s.sendto(payload, (host, port))
        try:
            data, src = s.recvfrom(65536)
        except socket.timeout:
            continue
        name, _, echo = data.partition(b":")
        if echo != payload:
            raise OSError("udp echo differs")
        if src[1] != port or socket.inet_pton(family, src[0]) != socket.inet_pton(family, host):
            raise OSError("reply came from [%s]:%d, not [%s]:%d" % (src[0], src[1], host, port))
        print(name.decode())
        return
    raise OSError("no udp reply")


def hold(host, port, fifo):
    s = connect(host, port)
    s.settimeout(30)
    print("server %s" % read_line(s), flush=True)
    n = 0
    with open(fifo, "r") as f:
        for line in f:
            msg = line.encode()
            s.sendall(msg)
            if recv_exact(s, len(msg)) != msg:
                raise OSError("echo differs")
            n += 1
            print("ok %d" % n, flush=True)


def flood(host, port, seconds):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.connect((host, port))
    payload = b"x" * 32
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(1000):
            try:
                s.send(payload)
            except OSError:
                pass


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
    elif cmd == "get":
        get(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "flood":
        flood(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    try:
        main()
    except (OSError, socket.timeout) as e:
        print("peer: %s" % e, file=sys.stderr)
        sys.exit(1)
