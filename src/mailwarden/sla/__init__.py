"""SLA clocks: acknowledge-by, contain-by, stakeholder-update cadence, the GDPR breach clock."""
