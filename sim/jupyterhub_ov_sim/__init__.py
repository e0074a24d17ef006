"""A simulated Kubernetes / OpenShift namespace for tests and dry runs.

This package is a *test double* of Kubernetes: an in-memory API server that speaks enough of
the Kubernetes REST protocol for ``kubernetes_asyncio``, KubeSpawner and ``kubectl`` to work
unmodified, plus small controllers that play the kubelet, the volume binder, the Deployment,
ReplicaSet and Service controllers (with kube-proxy's forwarding), the OpenShift build
controller, and a NooBaa-like bucket provisioner on an embedded S3 server. It has no
authentication, no persistence, no admission but PodSecurity's (and OpenShift's
restricted-v2 SCC as a check), no scheduling beyond "the one node" and no
isolation between pods. It exists so that OpenShift-mode features can be proven on a laptop;
it is never a production runtime.

Layout:
  apiserver.py, handlers.py, paths.py, discovery.py, openapi.py  the HTTP side
  partialmeta.py  metadata-only answers (Accept: ...;as=PartialObjectMetadata[List])
  protobuf.py   protobuf request bodies of built-in kinds (kubectl create ...) as JSON;
                protoschema.py wrote their field numbers (k8s-protobuf-schema.json)
  store.py, watchcache.py, gc.py, meta.py, patches.py, selectors.py  the object store
  kinds.py      the served kinds; ``KindRegistry.register(custom("g/v", "Kind"))`` adds one
  errors.py     Kubernetes ``Status`` bodies
  admission.py  pod admission by namespace labels: podsecurity.py (the Pod Security
                Standards, pure) and scc.py (OpenShift's restricted-v2, pure)
  faults.py     fault injection and request counters
  controller.py the controllers' base; kubelet.py (+ podenv, podfs, podruntime, podstatus,
                probes, serviceenv, ippool), volumes.py, builds.py (+ buildbehaviours.py),
                imports.py, buckets.py (+ s3admin.py its boto3 calls, s3.py / s3server.py
                the embedded moto server), deployments.py and replicasets.py (+ rollout.py),
                services.py (+ endpoints.py, forwarder.py)
  scale.py      the scale subresource; clusterips.py a Service's defaults and cluster IP
  cluster.py    server + controllers together; cli.py / ``python -m jupyterhub_ov_sim``
  kubeconfig.py kubeconfig files pointing clients at a simulator
  testing.py    pytest fixtures (sim_server, sim_api_client, sim_cluster), a pytest11 plugin

A distribution of its own (``jupyterhub-ov-sim``, ``sim/`` of the jupyterhub-ov repository):
it imports nothing of jupyterhub_ov, and jupyterhub_ov never imports it.
"""
