"""The Python peer of the Hello WebSocket protocol (see PROTOCOL.md at the repository root)."""

LANGUAGE_TAG = "PYTHON"
