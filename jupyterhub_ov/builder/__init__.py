"""The image build service: build requests, the phase machine, backends, store and REST API."""
