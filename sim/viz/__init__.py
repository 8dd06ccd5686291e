"""What a person sees: figures, the report, the dashboard."""
