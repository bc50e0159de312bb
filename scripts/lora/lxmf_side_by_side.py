#!/usr/bin/env python3
"""Reticulum + LXMF on the same simulated air as flotilla (`flotilla lora-air`), for the
side-by-side figures of docs/performance.md. Run by the ignored test
`lora::lora_side_by_side_with_lxmf` (tests/integration/lora.rs), or by hand:

    python lxmf_side_by_side.py send RADIO_TX RADIO_RX WORKDIR < texts (one per line)

It starts a receiver process on RADIO_RX (RNS KISSInterface + LXMF router, announces its
delivery destination), waits for the announce to cross the air, then sends each text as an
LXMF message (opportunistic: one packet, the most compact LXMF delivery) and prints one JSON
line per message: bytes the sender's interface wrote (the message packet), bytes the
receiver's wrote (its delivery proof), and the delivery time.
"""
import json
import os
import subprocess
import sys
import time

import LXMF
import RNS

CONFIG = """[reticulum]
  enable_transport = False
  share_instance = No
  panic_on_interface_error = No
[logging]
  loglevel = 2
[interfaces]
  [[air]]
    type = KISSInterface
    interface_enabled = True
    port = {port}
    speed = 115200
    databits = 8
    parity = none
    stopbits = 1
    preamble = 0
    txtail = 0
    persistence = 255
    slottime = 0
    flow_control = False
"""


def start(port, workdir):
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "config"), "w") as f:
        f.write(CONFIG.format(port=port))
    RNS.Reticulum(configdir=workdir)
    iface = RNS.Transport.interfaces[0]
    identity = RNS.Identity()
    router = LXMF.LXMRouter(identity=identity, storagepath=os.path.join(workdir, "lxmf"))
    dest = router.register_delivery_identity(identity, display_name="boat")
    return iface, router, dest


def receive(port, workdir):
    iface, router, dest = start(port, workdir)
    got = []

    def delivered(message):
        got.append((message.content_as_string(), time.time()))

    router.register_delivery_callback(delivered)
    router.announce(dest.hash)
    print(f"ready {dest.hash.hex()}", flush=True)
    seen = 0
    while True:
        time.sleep(0.05)
        while seen < len(got):
            text, at = got[seen]
            seen += 1
            time.sleep(1.5)  # let the proof leave
            print(json.dumps({"got": text, "at": at, "txb": iface.txb}), flush=True)


def send(port_tx, port_rx, workdir):
    rx = subprocess.Popen(
        [sys.executable, __file__, "receive", port_rx, os.path.join(workdir, "rx")],
        stdout=subprocess.PIPE, text=True)
    line = rx.stdout.readline().split()
    if not line or line[0] != "ready":
        sys.exit("the receiver did not start")
    dest_hash = bytes.fromhex(line[1])
    iface, router, src = start(port_tx, os.path.join(workdir, "tx"))
    t0 = time.time()
    while not RNS.Transport.has_path(dest_hash):
        if time.time() - t0 > 120:
            sys.exit("no path to the receiver (its announce did not cross)")
        time.sleep(0.1)
    print(json.dumps({"announce_s": round(time.time() - t0, 2), "announce_rxb": iface.rxb}), flush=True)
    recipient = RNS.Identity.recall(dest_hash)
    out = RNS.Destination(recipient, RNS.Destination.OUT, RNS.Destination.SINGLE, "lxmf", "delivery")
    rx_txb = 0
    for text in sys.stdin.read().splitlines():
        before = iface.txb
        sent_at = time.time()
        msg = LXMF.LXMessage(out, src, text, "", desired_method=LXMF.LXMessage.OPPORTUNISTIC)
        router.handle_outbound(msg)
        got = json.loads(rx.stdout.readline())
        print(json.dumps({
            "chars": len(text),
            "utf8": len(text.encode()),
            "message_bytes": iface.txb - before,
            "proof_bytes": got["txb"] - rx_txb,
            "delivery_s": round(got["at"] - sent_at, 2),
        }), flush=True)
        rx_txb = got["txb"]
    rx.kill()
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1] == "receive":
        receive(sys.argv[2], sys.argv[3])
    else:
        send(sys.argv[2], sys.argv[3], sys.argv[4])
