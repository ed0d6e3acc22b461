"""Benchmarks: `bench_<name>.py` modules with a `main()` that prints figures (`make bench`)."""
