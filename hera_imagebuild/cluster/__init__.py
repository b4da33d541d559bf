"""Client side, talking to a cluster: install templates, registry Secrets, submit and watch builds."""
