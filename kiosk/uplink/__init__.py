"""The gate's side of sync with HQ: the HTTP client and sync service, enrolment, the sync record in the gate
database, the sync status and its words, and retention bounded by what HQ holds. Speaks the wire protocol of
`sync.core` and never imports the HQ program."""
