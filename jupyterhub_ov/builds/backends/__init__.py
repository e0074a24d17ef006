"""Build backends: one interface (`base.BuildBackend`), a local and an OpenShift implementation."""
