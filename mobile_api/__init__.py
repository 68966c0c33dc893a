"""The phone-facing API (``/mobile/v1``): login, sync, inspections and evidence-photo upload."""
