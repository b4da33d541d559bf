"""The ``hera-imagebuild`` command line: client commands and the pod-side steps."""
