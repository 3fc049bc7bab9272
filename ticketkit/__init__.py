"""ticketkit: lottery tickets and pruning at initialisation, reproduced as a notebook-first report."""
__version__ = "0.1.0"
