"""Instructors' reference solutions: secret, imported by the engine, never mounted in a sandbox."""
