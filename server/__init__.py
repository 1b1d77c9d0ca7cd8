"""AI inference impact estimates, wire-compatible with the Scope3 AI API."""
