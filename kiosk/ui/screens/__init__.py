"""The kiosk's screens: sign-in, the gate, typed entries, log, settings and handover."""
