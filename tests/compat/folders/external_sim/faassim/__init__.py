"""A small FaaS scheduling simulator written the way other people write theirs (Python 3.12+)."""
