"""gongzhi (共治): grassroots governance platform — 共建共治共享 made into software."""

__version__ = "0.1.0"
