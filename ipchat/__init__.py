"""ipchat: cited answers about interventional psychiatry from a fixed source corpus."""

__version__ = "0.1.0"
