"""Mail arriving: SMTP/LMTP, IMAP and the MTA pipe, and the intake that commits raw bytes before 250."""
