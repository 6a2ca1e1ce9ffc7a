"""Where raw payloads come from besides webhooks: files, directories, mbox and IMAP."""
