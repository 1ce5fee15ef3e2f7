"""The front desk: the tablet at an office's entrance that sees today's and the coming visits."""
