"""In-process fuzzing of the decoders that read bytes from the network (``python -m tests.fuzz``)."""
