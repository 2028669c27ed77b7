"""The leaves every layer may use: they import no app code (tests/test_layers.py).

jobs (work enqueued by task name), counters (what every process counts for the metrics),
logs (the log context and the JSON log format).
"""
