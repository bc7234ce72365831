"""Dialogs that collect the options of a long job (building a store, training encoders)."""
