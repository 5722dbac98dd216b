"""llmsim: a small, readable simulator of a GPU cluster serving LLM inference.

Start with README.md, then `simulator.py` (the event loop) and `replica.py` (one GPU replica).
"""

__version__ = "1.0.0"
