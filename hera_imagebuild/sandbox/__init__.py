"""Local registries, a fault-injecting proxy and test images on loopback (demo, tests, benchmarks)."""
