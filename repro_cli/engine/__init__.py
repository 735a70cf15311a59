"""The one training engine shared by every recipe."""
