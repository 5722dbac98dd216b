"""Glia: an AI that does systems research (Researcher + Supervisor agents over a sandboxed simulator)."""

__version__ = "0.1.0"
