import gc_utils  # noqa: F401  (the course's helper file, not next to this one)
