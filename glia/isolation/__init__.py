"""The channel between a trusted core and an untrusted design, each in its own sandbox.

Trusted evaluation runs the simulator core in one container and the design in another; this package is
all that connects them. It is copied into both containers as the top-level package `glia_isolation`, so
it imports nothing but the standard library (numpy only if it is already there) and uses relative
imports only.
"""

from .channel import Channel, ChannelError, RemoteError, connect, listen
from .codec import CodecError, decode, encode

__all__ = [
    "Channel",
    "ChannelError",
    "CodecError",
    "RemoteError",
    "connect",
    "decode",
    "encode",
    "listen",
]
