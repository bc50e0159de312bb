#!/usr/bin/env python3
"""Checks flotilla's Meshtastic stream-API frames against the Meshtastic project's own Python
package (PyPI `meshtastic`), both directions. Run by tests/integration/lora/meshtastic.rs.

stdin: {"hello": hex, "packet": hex, "heartbeat": hex, "payload": hex, "config_id": int, "id": int}
       (frames flotilla wrote: 0x94 0xC3 len_hi len_lo + ToRadio)
stdout: {"from_radio": hex, "to_radio": hex, "from": int, "id": int}
       (frames the package wrote with its own framing code, for flotilla to decode)
Exit 1 with a message on stderr if a check fails.
"""
import json
import sys

from meshtastic import stream_interface
from meshtastic.protobuf import mesh_pb2, portnums_pb2

START1, START2 = stream_interface.START1, stream_interface.START2
BROADCAST = 0xFFFFFFFF


def fail(msg):
    print(f"meshtastic interop: {msg}", file=sys.stderr)
    sys.exit(1)


def unframe(hexstr, skip_wake=False):
    b = bytes.fromhex(hexstr)
    if skip_wake:
        b = b.lstrip(bytes([START2]))
    if len(b) < 4 or b[0] != START1 or b[1] != START2:
        fail(f"bad header {b[:4].hex()}")
    n = (b[2] << 8) | b[3]
    if len(b) != 4 + n:
        fail(f"length {n} but {len(b) - 4} bytes follow")
    return b[4:]


class Capture(stream_interface.StreamInterface):
    """The package's stream interface, without a device: we only use its framing."""

    def __init__(self):  # noqa: no device, no reader thread
        self.written = b""

    def _writeBytes(self, b):
        self.written += b


def main():
    req = json.load(sys.stdin)
    payload = bytes.fromhex(req["payload"])

    hello = mesh_pb2.ToRadio.FromString(unframe(req["hello"], skip_wake=True))
    if hello.want_config_id != req["config_id"]:
        fail(f"want_config_id {hello.want_config_id}")
    pkt = mesh_pb2.ToRadio.FromString(unframe(req["packet"]))
    if not pkt.HasField("packet"):
        fail("no packet in ToRadio")
    p = pkt.packet
    if p.to != BROADCAST or p.id != req["id"] or p.hop_limit != 3:
        fail(f"packet header to={p.to:#x} id={p.id} hop_limit={p.hop_limit}")
    if p.decoded.portnum != portnums_pb2.PortNum.PRIVATE_APP or p.decoded.payload != payload:
        fail(f"decoded portnum={p.decoded.portnum} payload={p.decoded.payload.hex()}")
    hb = mesh_pb2.ToRadio.FromString(unframe(req["heartbeat"]))
    if not hb.HasField("heartbeat"):
        fail("no heartbeat in ToRadio")

    # The other way: the package frames a FromRadio (device side) and a ToRadio (its client).
    cap = Capture()
    from_radio = mesh_pb2.FromRadio()
    from_radio.id = 77
    from_radio.packet.to = BROADCAST
    setattr(from_radio.packet, "from", 0x2A2B2C2D)
    from_radio.packet.id = 1234
    from_radio.packet.hop_limit = 2
    from_radio.packet.rx_snr = 6.5
    from_radio.packet.rx_rssi = -90
    from_radio.packet.decoded.portnum = portnums_pb2.PortNum.PRIVATE_APP
    from_radio.packet.decoded.payload = payload
    cap._sendToRadioImpl(from_radio)
    fr = cap.written
    cap.written = b""
    to_radio = mesh_pb2.ToRadio()
    to_radio.packet.to = BROADCAST
    to_radio.packet.id = 4321
    to_radio.packet.decoded.portnum = portnums_pb2.PortNum.PRIVATE_APP
    to_radio.packet.decoded.payload = payload
    cap._sendToRadioImpl(to_radio)
    json.dump({"from_radio": fr.hex(), "to_radio": cap.written.hex(), "from": 0x2A2B2C2D, "id": 1234}, sys.stdout)


if __name__ == "__main__":
    main()
