"""Pure model of builds: the request and its validation, the phase machine, records, the
validation report. No I/O: nothing here imports a backend, the store or the network."""
