"""The shared core: what the gate and HQ must agree on, imported by both programs and importing neither.

Code formats and their trust documents (`codes`), the policy and its rules (`policy`), the hash chain, identity
hashing, readings, the wire protocol and the bundle format, time and text helpers. Pure domain: no web server,
no HTTP client, no database driver, no terminal UI (import-linter contracts in pyproject.toml keep it so).
"""
