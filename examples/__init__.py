"""Example services built on Scopegate (``flask --app examples.<name> run``)."""
