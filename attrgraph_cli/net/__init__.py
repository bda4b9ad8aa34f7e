"""Network access, only when a command is asked for it: one bounded HTTP client and a download cache."""
