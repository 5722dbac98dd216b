"""The comparison's tests run in the same isolated environment as the black-box methods' tests."""

from tests.blackbox.conftest import isolated_environment, problem_cache, shared_root  # noqa: F401
