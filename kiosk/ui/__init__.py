"""The gate keeper's kiosk: a Textual app over the gate core.

Only this package imports Textual (an import-linter contract in pyproject.toml keeps it so). The App class is
thin (`app.py`); screens live in `screens/`, widgets in their own modules, styles in `kiosk.tcss`. Camera and
decoding run in a thread worker (`feed.py`) that talks to the screen only through the small typed messages
of `messages.py`. `launch.run_kiosk` is what `pocket-kiosk` calls.
"""
