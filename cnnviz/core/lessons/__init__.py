"""Lessons a teacher can run and share (steps, exercises, checks) and saved sessions."""
