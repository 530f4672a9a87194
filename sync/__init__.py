"""Both sides of sync: the shared core both programs import (`sync.core`) and the HQ program (`sync.hq`).
The gate's side of sync lives with the gate program, in `kiosk.uplink`."""
