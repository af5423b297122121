"""The one way a ticket changes: typed changes applied by tickets.apply, and the SLA clock they move."""
