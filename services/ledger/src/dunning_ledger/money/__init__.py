"""One account's money as a whole: balance, itemization, arrangements, payments, offers."""
