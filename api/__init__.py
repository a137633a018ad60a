"""The sidecar process (FastAPI). Uses models/ and utils/ only; nothing imports api/."""
