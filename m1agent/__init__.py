"""m1agent: an agent framework built on MiniMax-M1's function calling."""

__version__ = "0.1.0"
