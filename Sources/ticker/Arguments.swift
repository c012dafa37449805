import Foundation

/// Hand-written argument parsing: `--flag value`, `--flag=value` and bare
/// switches, with an error that names the offending flag.
struct ArgumentError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct Arguments {
    private var items: [String]
    /// `TICKER_<OPTION>` variables standing in for options the command line
    /// does not give (`--max-connections` ← `TICKER_MAX_CONNECTIONS`):
    /// flag over environment over default. Empty: the command line only.
    private var environment: [String: String] = [:]
    /// The variables an option looked up, so the unknown ones can be named.
    private(set) var consultedVariables: Set<String> = []

    init(_ items: some Sequence<String>) { self.items = Array(items) }

    /// From now on options not on the command line are looked up in `environment`.
    mutating func readEnvironment(_ environment: [String: String]) { self.environment = environment }

    /// `--max-connections` → `TICKER_MAX_CONNECTIONS`.
    static func variable(for option: String) -> String {
        "TICKER_" + option.drop(while: { $0 == "-" }).uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The environment's value for `option`, if it sets one.
    private mutating func environmentValue(_ option: String) -> String? {
        let name = Self.variable(for: option)
        consultedVariables.insert(name)
        guard let value = environment[name] else { return nil }
        fromEnvironment.insert(option)
        return value
    }

    /// Options whose value came from the environment, so an error names the variable.
    private var fromEnvironment: Set<String> = []

    /// How an error names where a bad value came from.
    private func source(_ option: String) -> String {
        fromEnvironment.contains(option) ? "\(Self.variable(for: option)) (\(option))" : option
    }

    /// `TICKER_*` variables in the environment that no option looked up
    /// (a typo, or an option of another command), for a warning.
    func unknownVariables(alsoKnown: Set<String> = []) -> [String] {
        environment.keys.filter { $0.hasPrefix("TICKER_") && !consultedVariables.contains($0) && !alsoKnown.contains($0) }.sorted()
    }

    var isEmpty: Bool { items.isEmpty }

    /// Removes and returns the next positional word (not starting with `-`).
    mutating func popPositional() -> String? {
        guard let first = items.first, !first.hasPrefix("-") else { return nil }
        items.removeFirst()
        return first
    }

    /// Removes `--name` (a switch). True when it was present; the
    /// environment is not read (`setting(_:)` reads it).
    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        return true
    }

    /// A switch that the environment may also set (`TICKER_NO_FEED=1`).
    mutating func setting(_ name: String) throws(ArgumentError) -> Bool {
        if flag(name) { return true }
        guard let text = environmentValue(name) else { return false }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw ArgumentError(message: "\(Self.variable(for: name)) takes 1 or 0 (true/false), not '\(text)'")
        }
    }

    /// Every `--name` value of the command line, or else the environment's
    /// (comma-separated there: `TICKER_ALLOW_ORIGIN=https://a,https://b`).
    mutating func values(_ name: String) throws(ArgumentError) -> [String] {
        let given = try commandLineValues(name)
        if !given.isEmpty { return given }
        guard let text = environmentValue(name) else { return [] }
        return text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Removes every `--name value` / `--name=value` and returns the values in order.
    private mutating func commandLineValues(_ name: String) throws(ArgumentError) -> [String] {
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

    /// The option's one value: the command line's, or else the environment's (as it is).
    mutating func value(_ name: String) throws(ArgumentError) -> String? {
        try sourcedValue(name)?.value
    }

    /// `value(_:)`, and whether it came from the environment (for options
    /// that compete, where a flag must win over a variable).
    mutating func sourcedValue(_ name: String) throws(ArgumentError) -> (value: String, fromEnvironment: Bool)? {
        let all = try commandLineValues(name)
        if all.count > 1 { throw ArgumentError(message: "\(name) given more than once") }
        if let given = all.first {
            // The variable names an option, which the flag overrode: not an unknown one.
            consultedVariables.insert(Self.variable(for: name))
            return (given, false)
        }
        return environmentValue(name).map { ($0, true) }
    }

    /// A variable of the environment that stands for no option (a secret),
    /// from the same environment the options are read from.
    mutating func variable(_ name: String) -> String? {
        consultedVariables.insert(name)
        return environment[name]
    }

    /// One of `T`'s cases by name ("--delivery batch"); an unknown name is
    /// an error that lists them.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ name: String) throws(ArgumentError) -> T?
    where T.RawValue == String {
        guard let text = try value(name) else { return nil }
        guard let picked = T(rawValue: text) else {
            let names = T.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or ")
            throw ArgumentError(message: "\(source(name)) takes \(names), not '\(text)'")
        }
        return picked
    }

    mutating func int<T: FixedWidthInteger>(_ name: String, in range: ClosedRange<T>) throws(ArgumentError) -> T? {
        guard let text = try value(name) else { return nil }
        guard let n = T(text), range.contains(n) else {
            throw ArgumentError(message: "\(source(name)) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return n
    }

    mutating func double(_ name: String, in range: ClosedRange<Double>) throws(ArgumentError) -> Double? {
        guard let text = try value(name) else { return nil }
        guard let n = Double(text), range.contains(n) else {
            throw ArgumentError(message: "\(source(name)) takes a number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
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
