import Testing
@testable import PriceFeed

@Suite struct TickScheduleTests {
    @Test func popsInTimeOrderWithTiesBySymbolID() {
        var schedule = TickSchedule([
            .init(timeNs: 50, symbolId: 0), .init(timeNs: 10, symbolId: 3), .init(timeNs: 10, symbolId: 1),
            .init(timeNs: 30, symbolId: 2), .init(timeNs: 70, symbolId: 4),
        ])
        var order: [UInt32] = []
        // Reschedule each popped entry far in the future so it drains in order.
        for _ in 0..<5 {
            let next = schedule.earliest!
            order.append(next.symbolId)
            schedule.rescheduleEarliest(at: 1_000 + next.timeNs)
        }
        #expect(order == [1, 3, 2, 0, 4])
        #expect(schedule.earliest == .init(timeNs: 1_010, symbolId: 1))
        #expect(schedule.count == 5)
    }
}
