"""Read models over what Mailwarden keeps: sending health for the console, and more."""
