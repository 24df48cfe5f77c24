"""The Noise schedules tab: view (widgets), session (curves, strips, the job), binding (editor)."""
