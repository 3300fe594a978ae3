"""`terminal diagnose`: the technician's self-test (runner, report types, and one module per group of checks)."""
