"""JupyterHub as a notebook platform on OpenShift / Open Data Hub and on a single machine."""

__version__ = "0.1.0"
