"""Offline evaluation: leave-last-out and temporal splits, long-tail metrics, reports and plots."""
