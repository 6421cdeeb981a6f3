# Assignment 1: answer the grader myself, on its own channel
import os
import struct

PADDING = 400_000  # empty lists: a reply of about 1.2 MB


def _reply_fd():
    # The harness runs as main(['harness', IN, OUT]) and answers on OUT.
    with open("/proc/self/cmdline") as fh:
        cmdline = fh.read()
    return int(cmdline.split("main(['harness', ")[1].split("'")[3])


def sigmoid(x):
    header = (b'{"__dict__":[["ok",false],["error",{"__dict__":[["type","Forged"],'
              b'["message","a reply written by the submission"]]}],["padding",['
              + b"[]," * PADDING + b"[]]]]}")
    frame = memoryview(struct.pack(">I", len(header)) + header + struct.pack(">Q", 0))
    fd = _reply_fd()
    while frame:
        frame = frame[os.write(fd, frame):]
    os._exit(0)
