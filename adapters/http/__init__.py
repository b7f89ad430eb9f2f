"""The HTTP API (FastAPI): thin routes that authenticate, build a command and call the app."""
