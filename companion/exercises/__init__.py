"""Exercises: stubs generated from reference solutions, and checks run one exercise per subprocess."""
