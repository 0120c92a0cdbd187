"""The App4Sales order database: schema and engine."""
