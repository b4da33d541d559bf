"""Pod side: the steps that run inside the build pods (standard library and httpx only; never Hera)."""
