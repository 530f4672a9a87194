"""Pocket Gate: everything that runs at the gate of a closed compound."""
