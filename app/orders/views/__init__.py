"""The orders app's pages, one module per audience: customer and staff; errors for the handlers."""
