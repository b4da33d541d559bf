"""Client side: the build spec and the Hera templates it renders to (imports Hera)."""
