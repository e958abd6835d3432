"""Writes of the accounts app: users (from tokens and Clerk webhooks), purge."""
