"""Front ends that receive mail: SMTP/LMTP (aiosmtpd) and, later, IMAP."""
