"""The protocol shared by gate and HQ, the gate's sync client and the HQ server."""
