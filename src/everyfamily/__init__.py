"""everyfamily: who a council's early-years services reach, who they miss, where and why."""

__version__ = "0.1.0"
