"""The metadata schema of models and datasets: its keys, their types, and the identifiers they hold."""
