"""Glia's tests; a package so shared test doubles import as `tests.fake_llm`."""
