"""The presentation layer: terminal reports, tables and plots of a trace, above input and analysis."""
