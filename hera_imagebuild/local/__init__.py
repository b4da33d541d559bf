"""What runs on a workstation instead of a cluster: ``build --local`` (prefetch -> builder -> push).

The steps are the pods' own code, run as processes with the pods' argv
contract; only the builder's process is held differently (kaniko in a mount
namespace with a throwaway root, buildah with a private store).
"""

from hera_imagebuild.local.build import BuilderUnavailable, LocalBuild, LocalResult, build_locally

__all__ = ["BuilderUnavailable", "LocalBuild", "LocalResult", "build_locally"]
