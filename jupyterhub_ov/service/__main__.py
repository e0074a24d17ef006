"""``python -m jupyterhub_ov.service``: the image build service."""

from .app import main

if __name__ == "__main__":
    main()
