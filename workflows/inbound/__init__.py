"""Inbound work orders (12345 hotline 热线工单, 一网通办): external orders become petitions."""
