"""``python -m jupyterhub_ov.service``: the platform service."""

from .listening import bind_early

if __name__ == "__main__":
    bind_early()  # before the heavy imports: the hub is already checking (listening.py)
    from .app import main

    main()
