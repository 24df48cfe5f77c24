"""The Gallery tab: view (widgets) and session (folder, listing, selection, restore routing)."""
