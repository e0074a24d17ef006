"""A local stand-in for OpenVINO Model Server: OVMS's command line, model repository
layout and version policies, its KServe v2 REST and gRPC API and ``/v1/config``, built on
the kserve SDK's model server and the OpenVINO runtime. ``python -m jupyterhub_ov.ovms``
or ``jupyterhub-ov-model-server`` with OVMS's options; docs/modelservers.md says what it
supports and what it refuses."""
