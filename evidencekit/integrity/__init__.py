"""Proof that nothing changed: originals read as hashed, the manifest, attachments, verify, timestamps."""
