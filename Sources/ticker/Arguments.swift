/// Hand-written argument parsing: `--flag value`, `--flag=value` and bare
/// switches, with an error that names the offending flag.
struct ArgumentError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct Arguments {
    private var items: [String]

    init(_ items: some Sequence<String>) { self.items = Array(items) }

    var isEmpty: Bool { items.isEmpty }

    /// Removes and returns the next positional word (not starting with `-`).
    mutating func popPositional() -> String? {
        guard let first = items.first, !first.hasPrefix("-") else { return nil }
        items.removeFirst()
        return first
    }

    /// Removes `--name` (a switch). True when it was present.
    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        return true
    }

    /// Removes every `--name value` / `--name=value` and returns the values in order.
    mutating func values(_ name: String) throws(ArgumentError) -> [String] {
        var found: [String] = []
        var i = 0
        while i < items.count {
            let item = items[i]
            if item == name {
                guard i + 1 < items.count else { throw ArgumentError(message: "\(name) needs a value") }
                found.append(items[i + 1])
                items.removeSubrange(i...(i + 1))
            } else if item.hasPrefix(name + "=") {
                found.append(String(item.dropFirst(name.count + 1)))
                items.remove(at: i)
            } else {
                i += 1
            }
        }
        return found
    }

    mutating func value(_ name: String) throws(ArgumentError) -> String? {
        let all = try values(name)
        if all.count > 1 { throw ArgumentError(message: "\(name) given more than once") }
        return all.first
    }

    /// One of `T`'s cases by name ("--delivery batch"); an unknown name is
    /// an error that lists them.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ name: String) throws(ArgumentError) -> T?
    where T.RawValue == String {
        guard let text = try value(name) else { return nil }
        guard let picked = T(rawValue: text) else {
            let names = T.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or ")
            throw ArgumentError(message: "\(name) takes \(names), not '\(text)'")
        }
        return picked
    }

    mutating func int<T: FixedWidthInteger>(_ name: String, in range: ClosedRange<T>) throws(ArgumentError) -> T? {
        guard let text = try value(name) else { return nil }
        guard let n = T(text), range.contains(n) else {
            throw ArgumentError(message: "\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return n
    }

    mutating func double(_ name: String, in range: ClosedRange<Double>) throws(ArgumentError) -> Double? {
        guard let text = try value(name) else { return nil }
        guard let n = Double(text), range.contains(n) else {
            throw ArgumentError(message: "\(name) takes a number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return n
    }

    /// Fails on anything not consumed: an unknown flag is an error, not ignored.
    func finish() throws(ArgumentError) {
        guard let first = items.first else { return }
        if first.hasPrefix("-") {
            throw ArgumentError(message: "unknown option '\(first)' (see --help)")
        }
        throw ArgumentError(message: "unexpected argument '\(first)' (see --help)")
    }
}
