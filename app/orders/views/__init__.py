"""The orders app's pages, one module per audience: customer, staff, api; errors for the handlers."""
