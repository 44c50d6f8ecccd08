"""The pytest checks run against a student's exercise file (or the reference solution)."""
