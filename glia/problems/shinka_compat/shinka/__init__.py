"""Glia's stand-in for the `shinka` package, as far as a ShinkaEvolve evaluator uses it.

A ShinkaEvolve `evaluate.py` imports `run_shinka_eval` from `shinka.core`; the real package pulls in the
whole framework (LLM clients, plotting, hydra), which a sandbox without network cannot install. Glia puts
this folder on `sys.path` in the core only when the real package is not installed.
"""
