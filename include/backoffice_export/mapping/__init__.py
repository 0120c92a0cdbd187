"""What several connectors share: money and VAT, dates, Dutch addresses, text and XML."""
