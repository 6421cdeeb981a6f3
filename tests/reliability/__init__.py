"""Fault and load tests of the service (a package, so its conftest never shadows another's)."""
