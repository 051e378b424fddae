"""sovereign-publish: public records with machine-checkable provenance for machine-generated syntheses."""

__version__ = "0.1.0"
