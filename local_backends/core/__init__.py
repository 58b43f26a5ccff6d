"""Shared machinery of the local backends: base class, dispatch, errors, state, validation."""
