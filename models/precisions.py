"""The names of the transformer's inference precisions (models/low_precision.py), without importing torch:
the server's settings and command line check them before any model is loaded."""

# "fp32": the trained network as it is; "bf16": a copy whose matrix products run in bf16
PRECISIONS = ("fp32", "bf16")
