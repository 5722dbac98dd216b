"""The simulator's own package: machine kinds and their prices."""
