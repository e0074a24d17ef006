"""The OpenShift backend: ImageStream imports and BuildConfig builds, validated by a pod.

backend.py (`OpenShiftBuildBackend`), objects.py (the manifests, pure), status.py (reading
builds, pods and streams, pure), steps.py (the steps of one build against the cluster).
"""

from .backend import OpenShiftBuildBackend

__all__ = ["OpenShiftBuildBackend"]
