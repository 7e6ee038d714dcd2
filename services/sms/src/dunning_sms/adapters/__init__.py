"""The sms worker's I/O edges: the Twilio SDK for sending, Twilio's webhook formats."""
