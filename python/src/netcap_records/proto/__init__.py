"""Generated protobuf modules of netcap's proto/ (do not edit).

Regenerate with ``python3 python/generate_protos.py`` from the repository
root; ``tests/test_generated.py`` fails when they are out of date.
"""
