"""Routers (global schedulers). ``base.py`` documents the contract; ``ai_global_scheduler.py`` is
the design file."""
