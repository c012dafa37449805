import Testing
import WebSocketProtocol

@Suite struct WebSocketCloseCodeTests {
    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validOnWire(_ raw: UInt16) {
        #expect(WebSocketCloseCode.isValidOnWire(raw))
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidOnWire(_ raw: UInt16) {
        #expect(!WebSocketCloseCode.isValidOnWire(raw))
    }

    @Test func namedCodesHaveTheirRegisteredValues() {
        #expect(WebSocketCloseCode.normal.rawValue == 1000)
        #expect(WebSocketCloseCode.noStatusReceived.rawValue == 1005)
        #expect(WebSocketCloseCode.messageTooBig.rawValue == 1009)
        #expect(WebSocketCloseCode.slowConsumer.rawValue == 4001)
        #expect(WebSocketCloseCode.heartbeatTimeout.rawValue == 4002)
        #expect(WebSocketCloseCode.slowConsumer.description == "4001 slow consumer")
        #expect(WebSocketCloseCode(rawValue: 3123).description == "3123")
    }
}
