"""effnas: the engine's face — CLI, pipeline jobs and reports. Thin: it only wires
search_spaces, nas, scaling and detectors together."""

__version__ = "0.1.0"
