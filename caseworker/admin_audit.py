"""The audit log, for admins (filled in with the audit chain)."""
