/// Parsing of /proc files, kept pure so it is unit tested on fixed text.
public enum ProcStats {
    /// utime + stime clock ticks from the text of /proc/PID/stat.
    public static func cpuTicks(statText: String) -> UInt64? {
        // The command name (field 2) may contain spaces; fields resume after the last ')'.
        guard let close = statText.lastIndex(of: ")") else { return nil }
        let fields = statText[statText.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }

    /// VmRSS in bytes from the text of /proc/PID/status.
    public static func residentBytes(statusText: String) -> Int? {
        for line in statusText.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kb = Int(parts[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }
}
