"""Measuring the pipeline against labelled public data, so quality claims come with numbers."""
