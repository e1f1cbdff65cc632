"""Configuration fitted from the warehouse's own history (`revops calibrate`): the scoring weights (`scoring`)."""
