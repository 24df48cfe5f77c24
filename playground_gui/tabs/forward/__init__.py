"""The "Forward process" page: view (widgets), session (state and jobs), binding (controls)."""
