"""The email worker's I/O edges: the SendGrid SDK for sending, its Event Webhook format."""
