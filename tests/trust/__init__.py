"""Trust suites: fuzzing, faults, concurrency, soak and secrets."""
