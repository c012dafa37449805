import Testing
@testable import WebSocketProtocol

@Suite struct FrameExtentTests {
    @Test func lengthsOfEveryHeaderForm() {
        for n in [0, 125, 126, 65_535, 65_536] {
            let frame = WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 1, count: n))
            frame.withUnsafeBytes { raw in
                let extent = FrameExtent.of(raw, at: 0)
                #expect(extent?.opcode == WebSocketOpcode.binary.rawValue)
                #expect(extent?.payloadLength == n)
                #expect(extent?.size == frame.count)
                // Any prefix is incomplete, never a wrong answer.
                for cut in [0, 1, 2, 3, 9, frame.count - 1] where cut < frame.count {
                    #expect(FrameExtent.of(UnsafeRawBufferPointer(rebasing: raw[0..<cut]), at: 0) == nil)
                }
            }
        }
    }

    @Test func walksConsecutiveFramesAndRefusesAbsurdLengths() {
        let stream = WebSocketFrameEncoder.encode(opcode: .text, payload: Array("hi".utf8))
            + WebSocketFrameEncoder.encode(opcode: .ping, payload: [])
        stream.withUnsafeBytes { raw in
            let first = FrameExtent.of(raw, at: 0)!
            #expect(first.opcode == WebSocketOpcode.text.rawValue && first.size == 4)
            let second = FrameExtent.of(raw, at: first.size)!
            #expect(second.opcode == WebSocketOpcode.ping.rawValue && second.size == 2)
            #expect(FrameExtent.of(raw, at: 6) == nil)
        }
        let absurd: [UInt8] = [0x82, 127, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        absurd.withUnsafeBytes { #expect(FrameExtent.of($0, at: 0) == nil, "top bit set: no trap, just incomplete") }
    }
}
