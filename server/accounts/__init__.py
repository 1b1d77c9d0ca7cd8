"""Accounts: API keys, who is calling, what catalog they see, and how often they may call."""
