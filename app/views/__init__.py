"""Small widgets, each bound to a model."""
