"""evidencekit: turn a shopper's phone evidence into a dossier an official will accept."""

__version__ = "0.1.0"
