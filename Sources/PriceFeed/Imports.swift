import MarketData
