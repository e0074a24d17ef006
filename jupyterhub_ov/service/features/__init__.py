"""Features of the platform service, one package each; a feature never imports another."""
