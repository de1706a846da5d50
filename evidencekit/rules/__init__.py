"""Domain rules read from templates/ (problem types, kinds, platforms, targets, law) and their checks."""
