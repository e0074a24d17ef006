"""The Tekton backend: PipelineRun builds, with the OpenShift backend's imports, validation
and publishing.

backend.py (`TektonBuildBackend`), manifests.py (the PipelineRun, pure), status.py (reading
runs, pure), steps.py (the build engine swapped into the OpenShift backend's steps).
"""

from .backend import TektonBuildBackend

__all__ = ["TektonBuildBackend"]
