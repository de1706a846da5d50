"""The case: case.yaml loaded and edited, the case folder created, its evidence inventoried, its follow-up log."""
