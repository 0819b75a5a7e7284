"""Chat front-ends: Slack, Teams, terminal. They translate; the product lives in services/."""
