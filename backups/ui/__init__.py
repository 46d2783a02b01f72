"""The browse pages: list, detail, overview and CSV, for people signed in with a Django account."""
