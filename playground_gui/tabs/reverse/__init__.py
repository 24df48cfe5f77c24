"""The Reverse process page (embedded digits model): view, session and binding."""
