"""The pure core of triggers and limits: cron due times, signatures, payload mapping,
the trigger graph and admission decisions. No Django (a test keeps it out)."""
