"""What every gRPC edge of the hub shares (the ERP gateway, the department feed, the audit endpoint):
the wrapper around each method (correlation id, logs, metrics), the one table from domain errors to
gRPC statuses with their details, the refusal of bytes that are not a request, and TLS listening."""
