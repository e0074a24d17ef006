"""OpenVINO Model Server deployments: the OpenVINO Toolkit Operator's ``ModelServer``
(``intel.com/v1alpha1``), serving models from the users' buckets, a volume claim or a config map.

So far the pure parts: spec.py (the typed spec, names and defaults), model.py (either spec
shape into it: sections.py reads the shapes, rules.py and modes.py check the fields) and
manifests.py (the Deployment and Service the operator would create). The reconciler, the local
model server, the panel and the REST API come later (issue 13); until then the feature has no
entry point.
"""
