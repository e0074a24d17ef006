"""The image build engine: requests and phases (`model`), the manager and its store, and the
backends that build (`backends.local`, `backends.openshift`). The platform service and its
features use it; it knows nothing of the web or of features."""
