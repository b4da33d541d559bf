"""Code shared by the client side and the pods: standard library only."""
