"""Outputs beyond the dossier: the complaint letter, the per-channel upload pack, batch builds."""
