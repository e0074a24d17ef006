"""The platform service: one JupyterHub service (auth, scopes, web base, panel shell,
lifecycle) that hosts features (`features.builds`, `features.notebooks`)."""
