"""Kafka: the relay that publishes every case event, and the library subscribers use."""
