// End-to-end CLI tests: one integration-test binary.
